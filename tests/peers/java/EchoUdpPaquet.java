// Serveur echo UDP en Java (TP5b 1.4) : DatagramSocket, un seul
// DatagramPacket pour tous les tours, renvoyé tel quel par send().
// Juste : receive() remplit le paquet jusqu'à la taille du tampon (65535)
// et règle sa longueur sur le datagramme reçu ; send() renvoie ces octets
// à l'adresse et au port de l'envoyeur, que receive() a mis dans le
// paquet. Réutiliser le paquet n'est pas une faute tant qu'on n'appelle
// pas setLength() avec moins (un petit datagramme ne coupe pas le
// suivant : vérifié avec « abc » puis « abcdefgh »).
//     javac EchoUdpPaquet.java && java EchoUdpPaquet 7777
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;

public class EchoUdpPaquet {
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7777;
        DatagramSocket socket = new DatagramSocket(port, InetAddress.getByName("127.0.0.1"));
        System.out.println("en attente sur 127.0.0.1:" + socket.getLocalPort());
        System.out.flush();
        byte[] buf = new byte[65535];
        DatagramPacket paquet = new DatagramPacket(buf, buf.length);
        while (true) {
            socket.receive(paquet);
            socket.send(paquet);
        }
    }
}
