#include "agent_exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent_name.h"
#include "errors.h"
#include "nova_client.h"
#include "spawn_input.h"
#include "text.h"

namespace nova {
namespace {

volatile sig_atomic_t g_child = 0;

void PassOn(int signal) {
  if (g_child > 0) kill(g_child, signal);
}

void Pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::kFailed, std::string("cannot make a pipe: ") + std::strerror(errno));
  }
}

int Reap(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  return ExitStatusOf(status);
}

}  // namespace

int ExitStatusOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

int ExecInAgent(const std::string& name, const std::vector<std::string>& command) {
  ValidateAgentName(name);
  if (command.empty()) {
    throw Error(ErrorKind::kInvalidArgument,
                "no command: give it after --, e.g. novactl exec " + name + " -- ps");
  }
  std::string path = ResolveCommand(command.front());
  std::vector<char*> args;
  for (const auto& a : command) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  NovaClient client;  // refuses a caller inside an agent, as novad does
  int go[2], exec_error[2];
  Pipe(go);
  Pipe(exec_error);
  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    throw Error(ErrorKind::kFailed, std::string("cannot fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    // Only async-signal-safe calls until exec. Until novad has moved this
    // process into the agent it only waits, and dies with novactl.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    close(go[1]);
    close(exec_error[0]);
    char byte = 0;
    ssize_t n;
    while ((n = read(go[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1 || byte != 'g') _exit(127);  // novactl failed: run nothing
    prctl(PR_SET_PDEATHSIG, 0);
    execv(path.c_str(), args.data());
    int error = errno;
    ssize_t ignored = write(exec_error[1], &error, sizeof error);
    (void)ignored;
    _exit(127);
  }
  close(go[0]);
  close(exec_error[1]);
  try {
    client.Attach(name, static_cast<uint32_t>(child));
  } catch (...) {
    close(go[1]);  // the child reads EOF and exits without running anything
    close(exec_error[0]);
    Reap(child);
    throw;
  }
  // The terminal sends SIGINT and SIGQUIT to the command too: it decides.
  // SIGTERM and SIGHUP, sent to novactl alone, are passed on.
  g_child = child;
  struct sigaction ignore {
  }, pass{};
  ignore.sa_handler = SIG_IGN;
  pass.sa_handler = PassOn;
  sigaction(SIGINT, &ignore, nullptr);
  sigaction(SIGQUIT, &ignore, nullptr);
  sigaction(SIGTERM, &pass, nullptr);
  sigaction(SIGHUP, &pass, nullptr);
  ssize_t written;
  while ((written = write(go[1], "g", 1)) < 0 && errno == EINTR) {
  }
  close(go[1]);
  int error = 0;
  ssize_t n;
  while ((n = read(exec_error[0], &error, sizeof error)) < 0 && errno == EINTR) {
  }
  close(exec_error[0]);
  int status = Reap(child);
  if (n == sizeof error) {
    throw Error(ErrorKind::kFailed, "cannot run " + Printable(path) + " in agent \"" + name +
                                        "\": " + std::strerror(error));
  }
  return status;
}

}  // namespace nova
