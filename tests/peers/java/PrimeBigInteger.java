// Serveur de nombres premiers (Chapitre 2.2, 1.1) en Java, un thread par
// client : readLine(), trim(), new BigInteger(ligne) et
// isProbablePrime(50), ce que proposent les réponses en ligne.
//
// ERREUR : isProbablePrime regarde la valeur absolue. -5 et -17 sont
// annoncés premiers (T) ; le protocole dit qu'un négatif n'est jamais
// premier (F). Remède : n.signum() > 0 && n.isProbablePrime(50).
// Le reste est juste : E pour ce qui n'est pas un entier, réponse exacte
// et immédiate près de 2**64 (Miller–Rabin), \r\n admis par readLine.
//     javac PrimeBigInteger.java && java PrimeBigInteger 8809
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class PrimeBigInteger {
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8809;
        ServerSocket serverSocket = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        System.out.println("en écoute sur 127.0.0.1:" + serverSocket.getLocalPort());
        System.out.flush();
        while (true) {
            Socket client = serverSocket.accept();
            Thread t = new Thread(() -> serve(client));
            t.setDaemon(true);
            t.start();
        }
    }

    static String answer(String line) {
        String s = line.strip();
        if (!s.matches("[+-]?[0-9]+")) {
            return "E\n";
        }
        BigInteger n = new BigInteger(s);
        return n.isProbablePrime(50) ? "T\n" : "F\n";
    }

    static void serve(Socket client) {
        try (Socket c = client;
             BufferedReader in = new BufferedReader(
                     new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
            OutputStream out = c.getOutputStream();
            String line;
            while ((line = in.readLine()) != null) {
                out.write(answer(line).getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
            System.err.println("client perdu : " + e.getMessage());
        }
    }
}
