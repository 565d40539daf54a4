// Serveur echo TCP, un thread par client (TP5b 2.2), en Java, qui salue.
//
// ERREUR : le serveur parle le premier. Dès la connexion il envoie
// « Bienvenue sur le serveur echo ! » ; un écho ne doit renvoyer que ce
// qu'il reçoit, et un client qui compare sa réponse à ce qu'il a envoyé
// trouve cette ligne en tête. Remède : ne rien écrire avant d'avoir lu.
// Le reste est juste.
//     javac EchoBienvenue.java && java EchoBienvenue 7777
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class EchoBienvenue {
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7777;
        ServerSocket serveur = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
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
            out.write("Bienvenue sur le serveur echo !\n".getBytes(StandardCharsets.UTF_8));
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // client parti
        }
    }
}
