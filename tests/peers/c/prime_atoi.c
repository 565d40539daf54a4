/* Serveur de nombres premiers (Chapitre 2.2, 1.1), en C : une ligne
 * reçue, une réponse T, F ou E suivie de \n. Bloquant, avec une boucle
 * autour d'accept ; fgets découpe le flux en lignes.
 *
 * ERREUR : atol() pour lire le nombre. atol ne dit jamais qu'il a échoué :
 * « 4j » donne 4, « abc » et la ligne vide donnent 0. Le serveur répond
 * donc F là où il faut E (pas un entier). Remède : strtol (ou strtoll)
 * avec son pointeur de fin : si rien n'a été lu, ou s'il reste autre chose
 * que des espaces, ce n'est pas un entier.
 *
 *     gcc -o prime_atoi prime_atoi.c && ./prime_atoi 8809
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int est_premier(long n)
{
    if (n < 2)
        return 0;
    if (n == 2)
        return 1;
    if (n % 2 == 0)
        return 0;
    for (long d = 3; d <= n / d; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8809;
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
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        FILE *f = fdopen(c, "r");
        char ligne[1100];
        while (fgets(ligne, sizeof ligne, f) != NULL) {
            long n = atol(ligne);
            const char *rep = est_premier(n) ? "T\n" : "F\n";
            if (write(c, rep, 2) < 0)
                break;
        }
        fclose(f); /* ferme aussi c */
    }
}
