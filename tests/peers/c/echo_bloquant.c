/* Serveur echo TCP bloquant (TP5b 1.2), en C : un client à la fois.
 *
 * Juste : SIGPIPE ignoré (un client qui part pendant qu'on lui écrit ne
 * tue pas le serveur), une boucle autour de send (send peut n'envoyer
 * qu'une partie), recv() == 0 termine le client. Pas de SO_REUSEADDR :
 * ce n'est pas une faute, seulement un redémarrage parfois refusé.
 *
 *     gcc -o echo_bloquant echo_bloquant.c && ./echo_bloquant 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Envoie les n octets, quitte à appeler send plusieurs fois. */
static int envoyer_tout(int fd, const char *buf, size_t n)
{
    size_t fait = 0;
    while (fait < n) {
        ssize_t k = send(fd, buf + fait, n - fait, 0);
        if (k < 0)
            return -1;
        fait += k;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7777;
    signal(SIGPIPE, SIG_IGN);

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
    fflush(stdout); /* stdout est un tube ici : sans fflush, rien ne sort */

    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        char buf[1500];
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
            if (envoyer_tout(c, buf, n) < 0)
                break;
        }
        close(c);
    }
}
