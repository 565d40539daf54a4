/* Serveur echo TCP bloquant (TP5b 1.2), en C.
 *
 * ERREUR : recv() qui rend 0 est pris pour « rien reçu pour l'instant ».
 * Or 0, c'est la fin de la connexion : le client est parti. Le serveur
 * continue donc d'appeler recv() sur une connexion finie, qui rend 0 à
 * chaque fois, sans jamais attendre : il tourne à vide, un cœur à 100 %,
 * et ne revient jamais à accept() : le premier client est servi, aucun
 * autre ensuite. Remède : if (n <= 0) break; puis close(c).
 *
 *     gcc -o echo_sans_fin echo_sans_fin.c && ./echo_sans_fin 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
    fflush(stdout);

    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        char buf[1500];
        for (;;) {
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n == 0)
                continue; /* rien reçu : on attend la suite */
            if (n < 0)
                break;
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
