/* Serveur echo UDP (TP5b 1.4), en C : recvfrom, puis sendto vers
 * l'adresse d'où vient le datagramme, depuis la même socket.
 *
 * Juste : le tampon tient le plus grand datagramme (65 507 octets), la
 * boucle tourne pour toujours, une erreur d'envoi n'arrête rien.
 *
 *     gcc -o echo_udp echo_udp.c && ./echo_udp 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7777;

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in adr;
    memset(&adr, 0, sizeof adr);
    adr.sin_family = AF_INET;
    adr.sin_port = htons(port);
    adr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&adr, sizeof adr) < 0) {
        perror("bind");
        return 1;
    }
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en attente sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    static char buf[65536];
    for (;;) {
        struct sockaddr_in de;
        socklen_t dlen = sizeof de;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&de, &dlen);
        if (n < 0)
            continue;
        sendto(s, buf, n, 0, (struct sockaddr *)&de, dlen);
    }
}
