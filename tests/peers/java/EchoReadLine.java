// Serveur echo TCP en Java, un thread par client (TP5b 2.2), écrit comme
// les tutoriels : BufferedReader.readLine() et PrintWriter.println().
//
// ERREUR : l'écho passe par des lignes de texte. readLine() attend la fin
// de ligne (« abc » sans \n n'a jamais d'écho) et la retire, \r\n
// compris ; println() remet \n : « abc\r\n » revient « abc\n ». Les octets
// qui ne sont pas du texte sont aussi changés par le décodage. Remède :
// lire et écrire des octets (InputStream.read(buf) puis
// OutputStream.write(buf, 0, n)).
//     javac EchoReadLine.java && java EchoReadLine 7777
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class EchoReadLine {
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7777;
        ServerSocket serverSocket = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        System.out.println("en écoute sur 127.0.0.1:" + serverSocket.getLocalPort());
        System.out.flush();
        while (true) {
            Socket client = serverSocket.accept();
            new Thread(() -> serve(client)).start();
        }
    }

    static void serve(Socket client) {
        try (Socket c = client;
             BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream()));
             PrintWriter out = new PrintWriter(c.getOutputStream(), true)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.println(line);
            }
        } catch (IOException e) {
            System.err.println("client perdu : " + e.getMessage());
        }
    }
}
