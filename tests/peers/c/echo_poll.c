/* Serveur echo TCP avec poll (TP5b 2.1, poll au lieu de select), en C :
 * un seul thread, un tableau de struct pollfd, la socket d'écoute en
 * premier.
 *
 * Juste : on lit chaque descripteur dont revents dit POLLIN (ou
 * POLLHUP/POLLERR, que recv transforme en 0 ou -1), un client parti est
 * retiré du tableau APRÈS le parcours (on ne modifie pas le tableau qu'on
 * parcourt), SIGPIPE ignoré, boucle autour de send.
 *
 *     gcc -o echo_poll echo_poll.c && ./echo_poll 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 1000

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
    listen(s, 64);
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    static struct pollfd fds[MAX_CLIENTS + 1];
    int nfds = 1;
    fds[0].fd = s;
    fds[0].events = POLLIN;
    char buf[4096];

    for (;;) {
        if (poll(fds, nfds, -1) < 0) {
            perror("poll");
            continue;
        }
        int avant = nfds; /* les nouveaux clients attendront le tour suivant */
        for (int i = 1; i < avant; i++) {
            if (fds[i].revents == 0)
                continue;
            ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
            ssize_t fait = 0;
            while (n > 0 && fait < n) {
                ssize_t k = send(fds[i].fd, buf + fait, n - fait, 0);
                if (k < 0)
                    break;
                fait += k;
            }
            if (n <= 0 || fait < n) {
                close(fds[i].fd);
                fds[i].fd = -1; /* retiré après le parcours */
            }
        }
        if (fds[0].revents & POLLIN) {
            int c = accept(s, NULL, NULL);
            if (c >= 0 && nfds <= MAX_CLIENTS) {
                fds[nfds].fd = c;
                fds[nfds].events = POLLIN;
                fds[nfds].revents = 0;
                nfds++;
            } else if (c >= 0) {
                close(c);
            }
        }
        /* On tasse le tableau : les descripteurs -1 s'en vont. */
        int j = 1;
        for (int i = 1; i < nfds; i++)
            if (fds[i].fd >= 0)
                fds[j++] = fds[i];
        nfds = j;
    }
}
