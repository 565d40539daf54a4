/* Serveur echo TCP, un processus par client (fork), en C.
 *
 * Juste : le père accepte et ferme sa copie de la connexion, le fils
 * ferme la socket d'écoute, sert son client puis se termine. SIGCHLD
 * ignoré : les fils terminés ne restent pas zombies. SIGPIPE ignoré, boucle
 * autour de send.
 *
 *     gcc -o echo_fork echo_fork.c && ./echo_fork 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void servir(int c)
{
    char buf[4096];
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
    signal(SIGCHLD, SIG_IGN);

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
        exit(1);
    }
    if (listen(s, 10) < 0) {
        perror("listen");
        exit(1);
    }
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    for (;;) {
        struct sockaddr_in client;
        socklen_t clen = sizeof client;
        int c = accept(s, (struct sockaddr *)&client, &clen);
        if (c < 0) {
            perror("accept");
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(s);
            servir(c);
            close(c);
            exit(0);
        }
        close(c);
    }
}
