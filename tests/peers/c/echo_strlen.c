/* Serveur echo TCP bloquant (TP5b 1.2), en C.
 *
 * ERREUR : le message reçu est terminé par '\0' puis renvoyé avec
 * strlen(buf) octets au lieu des n que recv a rendus. Un octet nul au
 * milieu des données (un fichier binaire, de l'UTF-16) coupe l'écho : ce
 * qui le suit est perdu. Remède : envoyer n octets, ceux que recv a
 * rendus ; une socket transporte des octets, pas des chaînes C.
 * SIGPIPE est ignoré, send est dans une boucle : une seule erreur.
 *
 *     gcc -o echo_strlen echo_strlen.c && ./echo_strlen 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAILLE 1500

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
    listen(s, 5);
    socklen_t l = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &l);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    char buf[TAILLE + 1];
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        for (;;) {
            ssize_t n = recv(c, buf, TAILLE, 0);
            if (n <= 0)
                break;
            buf[n] = '\0';
            printf("reçu : %s", buf);
            if (envoyer_tout(c, buf, strlen(buf)) < 0)
                break;
        }
        close(c);
    }
}
