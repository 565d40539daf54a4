/* Serveur echo TCP, un thread par client (TP5b 2.2), en C avec pthread.
 *
 * Juste : le descripteur est passé au thread par une case allouée pour
 * lui (pas &connfd, qu'accept écraserait avant que le thread le lise), le
 * thread est détaché (pthread_detach : rien à attendre), SIGPIPE ignoré,
 * boucle autour de send, recv() <= 0 termine ce client.
 *
 *     gcc -pthread -o echo_pthread echo_pthread.c && ./echo_pthread 7777
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *servir(void *arg)
{
    int c = *(int *)arg;
    free(arg);
    char buf[4096];
    ssize_t n;
    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
        ssize_t fait = 0;
        while (fait < n) {
            ssize_t k = send(c, buf + fait, n - fait, 0);
            if (k < 0)
                goto fin;
            fait += k;
        }
    }
fin:
    close(c);
    return NULL;
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
    listen(s, 64);
    socklen_t len = sizeof adr;
    getsockname(s, (struct sockaddr *)&adr, &len);
    printf("en écoute sur 127.0.0.1:%d\n", ntohs(adr.sin_port));
    fflush(stdout);

    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            perror("accept");
            continue;
        }
        int *arg = malloc(sizeof *arg);
        *arg = c;
        pthread_t t;
        if (pthread_create(&t, NULL, servir, arg) != 0) {
            perror("pthread_create");
            close(c);
            free(arg);
            continue;
        }
        pthread_detach(t);
    }
}
