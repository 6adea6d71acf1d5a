// The kernel's floor under a broadcast to N WebSocket subscribers on loopback, with no server framework: the
// parent (pinned to SENDER_CORE) accepts N TCP connections and sends one 11-byte binary frame on each, one send()
// per connection, as a server that frames once must; a child process (pinned to READER_CORE; a process may hold
// only so many descriptors) holds the client ends, waits in epoll for batches of up to 4096 and reads them all.
// Per round: the sender's loop time, and the time from the first send until every subscriber has its frame
// (CLOCK_MONOTONIC is system-wide). Used by scripts/lib/bench-websockets.sh; output: key=value lines.
//   usage: broadcast-floor [N=10000] [ROUNDS=7] [SENDER_CORE=0] [READER_CORE=1]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void pin(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static int compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void fail(const char* what) {
  perror(what);
  exit(1);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000, rounds = argc > 2 ? atoi(argv[2]) : 7;
  int sender_core = argc > 3 ? atoi(argv[3]) : 0, reader_core = argc > 4 ? atoi(argv[4]) : 1;
  int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof address;
  if (bind(listener, (void*)&address, sizeof address) || listen(listener, 4096) || getsockname(listener, (void*)&address, &length)) fail("listen");
  int to_reader[2], to_sender[2], results[2];
  if (pipe(to_reader) || pipe(to_sender) || pipe(results)) fail("pipe");
  if (fork() == 0) {
    pin(reader_core);
    int* clients = malloc(n * sizeof(int));
    int epoll = epoll_create1(0);
    for (int i = 0; i < n; i++) {
      clients[i] = socket(AF_INET, SOCK_STREAM, 0);
      if (clients[i] < 0 || connect(clients[i], (void*)&address, sizeof address)) fail("connect");
      struct epoll_event event = {.events = EPOLLIN, .data.u32 = i};
      epoll_ctl(epoll, EPOLL_CTL_ADD, clients[i], &event);
    }
    struct epoll_event* events = malloc(sizeof(*events) * 4096);
    char buffer[256];
    for (int round = 0; round < rounds; round++) {
      double start;
      if (write(to_sender[1], "r", 1) != 1 || read(to_reader[0], &start, sizeof start) != sizeof start) fail("pipe");
      for (int left = n; left > 0;) {
        int count = epoll_wait(epoll, events, 4096, 1000);
        for (int e = 0; e < count; e++)
          if (read(clients[events[e].data.u32], buffer, sizeof buffer) > 0) left--;
      }
      double received = now_ms() - start;
      if (write(results[1], &received, sizeof received) != sizeof received) fail("pipe");
    }
    exit(0);
  }
  pin(sender_core);
  int* servers = malloc(n * sizeof(int));
  for (int i = 0; i < n; i++) {
    if ((servers[i] = accept(listener, 0, 0)) < 0) fail("accept");
    setsockopt(servers[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(servers[i], F_SETFL, O_NONBLOCK);
  }
  const unsigned char frame[11] = {0x82, 9, 'b', 'r', 'o', 'a', 'd', 'c', 'a', 's', 't'};
  double* sent = malloc(rounds * sizeof(double));
  double* received = malloc(rounds * sizeof(double));
  for (int round = 0; round < rounds; round++) {
    char ready;
    if (read(to_sender[0], &ready, 1) != 1) fail("pipe");
    usleep(200000);
    double start = now_ms();
    if (write(to_reader[1], &start, sizeof start) != sizeof start) fail("pipe");
    for (int i = 0; i < n; i++)
      if (send(servers[i], frame, sizeof frame, MSG_NOSIGNAL) != sizeof frame) fail("send");
    sent[round] = now_ms() - start;
    if (read(results[0], &received[round], sizeof(double)) != sizeof(double)) fail("pipe");
  }
  wait(0);
  printf("floor_subscribers=%d\nfloor_rounds_ms=", n);
  for (int round = 0; round < rounds; round++) printf("%s%.1f", round ? "," : "", received[round]);
  qsort(sent, rounds, sizeof(double), compare);
  qsort(received, rounds, sizeof(double), compare);
  printf("\nfloor_median_ms=%.1f\nfloor_max_ms=%.1f\nfloor_send_loop_median_ms=%.1f\nfloor_us_per_send=%.2f\n", received[rounds / 2],
         received[rounds - 1], sent[rounds / 2], sent[rounds / 2] * 1000 / n);
  return 0;
}
