#include "agent_logs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "errors.h"
#include "text.h"

namespace nova {
namespace {

// Where `text` stops being complete: before a UTF-8 sequence it ends in the
// middle of, or at its end.
size_t CompleteCharacters(std::string_view text) {
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    auto byte = static_cast<unsigned char>(text[text.size() - back]);
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    return length > back ? text.size() - back : text.size();
  }
  return text.size();
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(Fd&& other) {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

void Pipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::kFailed, std::string("cannot make a pipe: ") + std::strerror(errno));
  }
  *read_end = Fd(fds[0]);
  *write_end = Fd(fds[1]);
}

// False when `fd` takes no more (its reader went away).
bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int ExitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

int Wait(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  return ExitStatus(status);
}

// SIGTERM, and SIGKILL if that has not ended it within two seconds.
void Stop(pid_t child) {
  kill(child, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(child, &status, WNOHANG) == child) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(child, SIGKILL);
  Wait(child);
}

}  // namespace

StopSignals::StopSignals() {
  sigemptyset(&set_);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, s);
  pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe_);
  fd_ = signalfd(-1, &set_, SFD_CLOEXEC);
  if (fd_ < 0) {
    Restore();
    throw Error(ErrorKind::kFailed, std::string("cannot watch signals: ") + std::strerror(errno));
  }
}

StopSignals::~StopSignals() {
  close(fd_);
  Restore();
}

int StopSignals::Take() {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  signalfd_siginfo info{};
  return read(fd_, &info, sizeof info) == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
}

void StopSignals::Restore() {
  sigaction(SIGPIPE, &old_pipe_, nullptr);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::string PrintableLines::Feed(std::string_view chunk) {
  held_back_.append(chunk);
  size_t newline = held_back_.rfind('\n');
  size_t cut = newline == std::string::npos ? 0 : newline + 1;
  if (held_back_.size() - cut > kMaxHeldBack) cut = CompleteCharacters(held_back_);
  std::string out = Printable(std::string_view(held_back_).substr(0, cut), true);
  held_back_.erase(0, cut);
  return out;
}

std::string PrintableLines::Finish() {
  std::string out = Printable(held_back_, true);
  held_back_.clear();
  return out;
}

int RunPrintable(const std::vector<std::string>& argv, int out_fd) {
  if (argv.empty()) throw Error(ErrorKind::kFailed, "no command to run");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  StopSignals signals;
  Fd output, child_output, exec_error, child_exec_error;
  Pipe(&output, &child_output);
  Pipe(&exec_error, &child_exec_error);
  bool ignore_pipe = signals.pipe_was_ignored();
  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    throw Error(ErrorKind::kFailed, std::string("cannot fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    // Only async-signal-safe calls until exec. The command starts with no
    // signal blocked, and ends when novactl does, however novactl ends.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction pipe_action {};
    pipe_action.sa_handler = ignore_pipe ? SIG_IGN : SIG_DFL;
    sigaction(SIGPIPE, &pipe_action, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    if (dup2(child_output.get(), STDOUT_FILENO) >= 0) execvp(args[0], args.data());
    int error = errno;
    ssize_t ignored = write(child_exec_error.get(), &error, sizeof error);
    (void)ignored;
    _exit(127);
  }
  child_output.Close();
  child_exec_error.Close();

  // The exec error pipe closes without a word when exec succeeds.
  int error = 0;
  ssize_t n;
  while ((n = read(exec_error.get(), &error, sizeof error)) < 0 && errno == EINTR) {
  }
  if (n == sizeof error) {
    Wait(child);
    throw Error(ErrorKind::kUnavailable,
                "cannot run " + Printable(argv[0]) + ": " + std::strerror(error));
  }

  PrintableLines lines;
  int stopped_by = 0;
  std::string buffer(64 * 1024, '\0');
  pollfd fds[] = {{output.get(), POLLIN, 0}, {signals.fd(), POLLIN, 0}, {out_fd, 0, 0}};
  while (stopped_by == 0) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      stopped_by = SIGTERM;
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      stopped_by = read(signals.fd(), &info, sizeof info) == sizeof info
                       ? static_cast<int>(info.ssi_signo)
                       : SIGTERM;
    } else if (fds[2].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      stopped_by = SIGPIPE;  // the reader went away while the command was quiet
    } else if (fds[0].revents) {
      n = read(output.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the command closed its output
      if (!WriteAll(out_fd, lines.Feed(std::string_view(buffer.data(), n)))) stopped_by = SIGPIPE;
    }
  }
  if (stopped_by == 0 && !WriteAll(out_fd, lines.Finish())) stopped_by = SIGPIPE;
  output.Close();
  if (stopped_by != 0) {
    Stop(child);
    return 128 + stopped_by;
  }
  return Wait(child);
}

bool JournalHasEntries(const std::string& match) {
  sd_journal* j = nullptr;
  if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY) < 0) return true;
  std::unique_ptr<sd_journal, decltype(&sd_journal_close)> guard(j, sd_journal_close);
  if (sd_journal_add_match(j, match.data(), match.size()) < 0) return true;
  return sd_journal_next(j) > 0;
}

}  // namespace nova
