/* Serveur echo TCP, un processus par client (fork), en C, comme dans
 * beaucoup de livres : le père accepte, le fils sert.
 *
 * Juste pour le client. Mais SIGCHLD n'est ni ignoré ni traité (pas de
 * waitpid) : chaque fils terminé reste un zombie (<defunct> dans ps)
 * jusqu'à la fin du père. Ce n'est pas une erreur que voit un client ;
 * après des milliers de clients, fork finit par échouer. Remède :
 * signal(SIGCHLD, SIG_IGN), ou un gestionnaire qui appelle waitpid.
 *
 *     gcc -o echo_fork_zombies echo_fork_zombies.c && ./echo_fork_zombies 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void str_echo(int c)
{
    char buf[1024];
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
        ssize_t fait = 0;
        while (fait < n) {
            ssize_t k = write(c, buf + fait, n - fait);
            if (k < 0)
                return;
            fait += k;
        }
    }
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
    fflush(stdout);

    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        if (fork() == 0) {
            close(s);
            str_echo(c);
            exit(0);
        }
        close(c);
    }
}
