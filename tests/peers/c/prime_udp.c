/* Serveur UDP de nombres premiers (Chapitre 2.2, 1.2), en C.
 *
 * Juste pour le cours : une boucle recvfrom/sendto, la réponse part de la
 * socket qui a reçu, vers l'adresse de l'envoyeur ; strtol avec son
 * pointeur de fin (espaces et \n admis autour, rien d'autre) ; division
 * jusqu'à √n ; négatifs, 0 et 1 : F. Comme le cours, un datagramme vide
 * arrête le serveur. Au-delà du cours (remarques) : 1_000 refusé, et
 * strtol s'arrête à 2**63 - 1 (E au-delà).
 *
 *     gcc -o prime_udp prime_udp.c && ./prime_udp 8808
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int premier(long n)
{
    if (n < 2)
        return 0;
    for (long d = 2; d <= n / d; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static char reponse(char *texte)
{
    char *fin;
    errno = 0;
    long n = strtol(texte, &fin, 10);
    if (fin == texte || errno == ERANGE)
        return 'E';
    while (isspace((unsigned char)*fin))
        fin++;
    if (*fin != '\0')
        return 'E';
    return premier(n) ? 'T' : 'F';
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8808;
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
    socklen_t l = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &l);
    printf("en attente sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    char buf[2048];
    for (;;) {
        struct sockaddr_in client;
        socklen_t cl = sizeof client;
        ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0,
                             (struct sockaddr *)&client, &cl);
        if (n < 0)
            continue;
        if (n == 0)
            break;
        buf[n] = '\0';
        char r[2] = {reponse(buf), '\n'};
        printf("Donnée reçue: %s -> %c\n", buf, r[0]);
        fflush(stdout);
        sendto(s, r, 2, 0, (struct sockaddr *)&client, cl);
    }
    close(s);
    return 0;
}
