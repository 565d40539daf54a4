/* Serveur echo TCP avec select (TP5b 2.1), en C, sockets non bloquantes.
 *
 * ERREUR : un seul send() par recv(), sans regarder ce qu'il rend. Sur une
 * socket non bloquante (O_NONBLOCK, mis « pour que le serveur ne bloque
 * jamais »), send() n'envoie que ce qui tient dans le tampon d'envoi et
 * rend ce nombre, ou -1 (EAGAIN) quand le tampon est plein : le reste est
 * perdu. Avec de petits messages on ne voit rien ; avec des mégaoctets,
 * des octets manquent. Remède : une boucle autour de send jusqu'à ce que
 * tout soit parti (et, en non bloquant, garder le reste pour plus tard).
 *
 *     gcc -o echo_send_nonbloquant echo_send_nonbloquant.c && ./echo_send_nonbloquant 7777
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7777;
    signal(SIGPIPE, SIG_IGN);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    int un = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &un, sizeof un);
    struct sockaddr_in adr;
    memset(&adr, 0, sizeof adr);
    adr.sin_family = AF_INET;
    adr.sin_port = htons(port);
    adr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&adr, sizeof adr) < 0) {
        perror("bind");
        return 1;
    }
    listen(s, 10);
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    fd_set tous;
    FD_ZERO(&tous);
    FD_SET(s, &tous);
    int max = s;
    char buf[4096];

    for (;;) {
        fd_set prets = tous;
        select(max + 1, &prets, NULL, NULL, NULL);
        for (int fd = 0; fd <= max; fd++) {
            if (!FD_ISSET(fd, &prets))
                continue;
            if (fd == s) {
                int c = accept(s, NULL, NULL);
                if (c < 0 || c >= FD_SETSIZE) {
                    if (c >= 0)
                        close(c);
                    continue;
                }
                fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
                FD_SET(c, &tous);
                if (c > max)
                    max = c;
                continue;
            }
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                close(fd);
                FD_CLR(fd, &tous);
                continue;
            }
            send(fd, buf, n, 0);
        }
    }
}
