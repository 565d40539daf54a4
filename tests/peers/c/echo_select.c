/* Serveur echo TCP avec select (TP5b 2.1), en C : un seul processus, un
 * seul thread, select sur la socket d'écoute et sur chaque client.
 *
 * Juste : on lit la socket que select dit prête (FD_ISSET sur chaque
 * descripteur), recv() <= 0 ferme ce client et le retire de l'ensemble,
 * SIGPIPE ignoré, boucle autour de send.
 *
 *     gcc -o echo_select echo_select.c && ./echo_select 7777
 */
#include <arpa/inet.h>
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
    char buf[1500];

    for (;;) {
        fd_set prets = tous; /* select modifie l'ensemble : une copie */
        if (select(max + 1, &prets, NULL, NULL, NULL) < 0) {
            perror("select");
            continue;
        }
        for (int fd = 0; fd <= max; fd++) {
            if (!FD_ISSET(fd, &prets))
                continue;
            if (fd == s) {
                int c = accept(s, NULL, NULL);
                if (c < 0)
                    continue;
                if (c >= FD_SETSIZE) { /* select ne sait pas aller plus loin */
                    close(c);
                    continue;
                }
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
            ssize_t fait = 0;
            while (fait < n) {
                ssize_t k = send(fd, buf + fait, n - fait, 0);
                if (k < 0)
                    break;
                fait += k;
            }
            if (fait < n) {
                close(fd);
                FD_CLR(fd, &tous);
            }
        }
    }
}
