// Serveur echo TCP, un thread par client (TP5b 2.2), en Java.
// Juste : read() qui rend -1 termine le client, write(buf, 0, n) écrit
// tout (les flux Java bouclent pour nous, comme sendall), une exception
// ne termine que ce client.
//     javac EchoThreads.java && java EchoThreads 7777
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class EchoThreads {
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7777;
        ServerSocket serveur = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        // En octets UTF-8 : System.out suit la langue du système, qui peut
        // ne pas savoir écrire « é ».
        String ligne = "en écoute sur 127.0.0.1:" + serveur.getLocalPort() + "\n";
        System.out.write(ligne.getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        while (true) {
            Socket client = serveur.accept();
            new Thread(() -> servir(client)).start();
        }
    }

    static void servir(Socket client) {
        try (Socket c = client) {
            InputStream in = c.getInputStream();
            OutputStream out = c.getOutputStream();
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // ce client est parti brutalement : les autres continuent
        }
    }
}
