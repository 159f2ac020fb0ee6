#include "security_exposure.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

extern char** environ;

namespace nova {

std::optional<double> ParseSecurityExposure(std::string_view output) {
  constexpr std::string_view kMarker = "Overall exposure level for ";
  size_t at = output.find(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  size_t colon = output.find(": ", at);
  size_t end_of_line = output.find('\n', at);
  if (colon == std::string_view::npos || colon > end_of_line) return std::nullopt;
  std::string_view rest = output.substr(colon + 2);
  double value = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || end == rest.data() || value < 0 || value > 10) return std::nullopt;
  return value;
}

std::optional<double> MeasureSecurityExposure(const std::string& unit) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string program = "/usr/bin/systemd-analyze";
  std::string security = "security", no_pager = "--no-pager";
  char* argv[] = {program.data(), security.data(), no_pager.data(), const_cast<char*>(unit.c_str()),
                  nullptr};
  // SYSTEMD_COLORS=0: no escape sequences around the number.
  std::string colors = "SYSTEMD_COLORS=0", path = "PATH=/usr/bin:/bin", lang = "LANG=C.UTF-8";
  char* env[] = {colors.data(), path.data(), lang.data(), nullptr};
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, env);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string output;
  if (spawned == 0) {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      output.append(buffer, static_cast<size_t>(n));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close(fds[0]);
  return ParseSecurityExposure(output);
}

}  // namespace nova
