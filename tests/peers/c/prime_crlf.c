/* Serveur de nombres premiers (Chapitre 2.2, 1.1), en C : une ligne
 * reçue, une réponse T, F ou E suivie de \n. Bloquant, avec une boucle
 * autour d'accept ; fgets découpe le flux en lignes, strtok ôte les
 * espaces, strtol vérifie que tout le mot est un nombre.
 *
 * ERREUR : la fin de ligne \r\n (celle de telnet, de nc -C, de Windows)
 * n'est pas prévue. strtok coupe sur espace, tabulation et \n, mais pas
 * sur \r : « 17\r\n » laisse « 17\r », où strtol s'arrête avant \r, et le
 * serveur répond E. Remède : mettre \r dans les séparateurs (" \t\r\n"),
 * ou ôter tout isspace() en fin de ligne.
 *
 *     gcc -o prime_crlf prime_crlf.c && ./prime_crlf 8809
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
    if (n < 4)
        return 1;
    if (n % 2 == 0)
        return 0;
    for (long d = 3; d <= n / d; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

/* 'T', 'F' ou 'E' pour une ligne reçue. */
static char reponse(char *ligne)
{
    char *mot = strtok(ligne, " \t\n");
    if (mot == NULL || strtok(NULL, " \t\n") != NULL)
        return 'E'; /* ligne vide, ou plusieurs mots */
    char *fin;
    long n = strtol(mot, &fin, 10);
    if (fin == mot || *fin != '\0')
        return 'E';
    return est_premier(n) ? 'T' : 'F';
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
            char rep[2] = {reponse(ligne), '\n'};
            if (write(c, rep, 2) < 0)
                break;
        }
        fclose(f);
    }
}
