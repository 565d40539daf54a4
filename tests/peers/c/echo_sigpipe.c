/* Serveur echo TCP bloquant (TP5b 1.2), en C, comme on l'écrit d'abord.
 *
 * ERREUR : SIGPIPE n'est pas ignoré. Quand un client part alors que le
 * serveur lui écrit encore (il envoie beaucoup, puis ferme sans tout
 * lire), send() vers cette connexion fermée lève SIGPIPE, dont l'action
 * par défaut tue le processus : le serveur disparaît sans un mot.
 * Remède : signal(SIGPIPE, SIG_IGN) au début, ou send(..., MSG_NOSIGNAL) ;
 * send rend alors -1 (EPIPE) et on ferme ce client seulement.
 *
 *     gcc -o echo_sigpipe echo_sigpipe.c && ./echo_sigpipe 7777
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

    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in adr;
    memset(&adr, 0, sizeof adr);
    adr.sin_family = AF_INET;
    adr.sin_port = htons(port);
    adr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&adr, sizeof adr) < 0) {
        perror("bind");
        return 1;
    }
    listen(s, 5);
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        char buf[1500];
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
            ssize_t fait = 0;
            while (fait < n) {
                ssize_t k = send(c, buf + fait, n - fait, 0);
                if (k < 0)
                    break;
                fait += k;
            }
        }
        close(c);
    }
}
