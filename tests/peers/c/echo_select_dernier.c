/* Serveur echo TCP avec select (TP5b 2.1), en C.
 *
 * ERREUR, la classique de select : on lit la dernière socket acceptée
 * (client) au lieu de celle que select dit prête. Avec un seul client,
 * c'est la même et tout marche ; avec deux clients connectés, quand le
 * premier parle, select le dit prêt, mais recv() attend sur le second :
 * le serveur reste bloqué, et le premier n'a jamais sa réponse.
 * Remède : parcourir les descripteurs et lire chaque fd où FD_ISSET est
 * vrai (ou garder un tableau de clients).
 *
 *     gcc -o echo_select_dernier echo_select_dernier.c && ./echo_select_dernier 7777
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
    int client = -1;
    char buf[1500];

    for (;;) {
        fd_set prets = tous;
        select(max + 1, &prets, NULL, NULL, NULL);
        if (FD_ISSET(s, &prets)) {
            client = accept(s, NULL, NULL);
            FD_SET(client, &tous);
            if (client > max)
                max = client;
            continue;
        }
        /* un client a parlé : on le lit (mais lequel ?) */
        ssize_t n = recv(client, buf, sizeof buf, 0);
        if (n <= 0) {
            close(client);
            FD_CLR(client, &tous);
            continue;
        }
        ssize_t fait = 0;
        while (fait < n) {
            ssize_t k = send(client, buf + fait, n - fait, 0);
            if (k < 0)
                break;
            fait += k;
        }
    }
}
