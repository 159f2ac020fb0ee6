#include "attach.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <sstream>

#include "agent_name.h"
#include "errors.h"
#include "files.h"
#include "priority_sweep.h"
#include "users.h"

namespace nova {
namespace {

std::vector<uint32_t> Numbers(std::string_view text) {
  std::vector<uint32_t> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) {
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (ec != std::errc() || end != word.data() + word.size()) return {};
    out.push_back(n);
  }
  return out;
}

class PidfdTarget final : public AttachTarget {
 public:
  PidfdTarget(uint32_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  ~PidfdTarget() override { close(pidfd_); }
  uint32_t pid() const override { return pid_; }
  std::optional<ProcessFacts> Facts() override {
    std::string dir = "/proc/" + std::to_string(pid_);
    auto status = ReadFile(dir + "/status");
    if (!status) return std::nullopt;
    auto facts = ParseProcStatus(*status);
    if (facts) facts->cgroup = ProcessCgroup(static_cast<int>(pid_));
    return facts;
  }
  bool Alive() override { return syscall(SYS_pidfd_send_signal, pidfd_, 0, nullptr, 0) == 0; }
  std::vector<std::string> ApplyPriority(const PriorityPolicy& policy) override {
    return nova::ApplyPriority(static_cast<int>(pid_), policy);
  }

 private:
  uint32_t pid_;
  int pidfd_;
};

}  // namespace

std::optional<ProcessFacts> ParseProcStatus(std::string_view status) {
  ProcessFacts facts;
  bool have_ppid = false;
  while (!status.empty()) {
    size_t end = status.find('\n');
    std::string_view line = status.substr(0, end);
    if (line.starts_with("PPid:")) {
      auto n = Numbers(line.substr(5));
      if (n.size() != 1) return std::nullopt;
      facts.ppid = n[0];
      have_ppid = true;
    } else if (line.starts_with("Uid:")) {
      facts.uids = Numbers(line.substr(4));
      if (facts.uids.size() != 4) return std::nullopt;
    }
    if (end == std::string_view::npos) break;
    status.remove_prefix(end + 1);
  }
  if (!have_ppid || facts.uids.empty()) return std::nullopt;
  return facts;
}

void CheckAttach(uint32_t caller_uid, uint32_t caller_pid, const std::string& name,
                 const std::optional<AgentUnitInfo>& agent, uint32_t pid,
                 const std::optional<ProcessFacts>& target) {
  ValidateAgentName(name);
  if (pid <= 1) {
    throw Error(ErrorKind::kInvalidArgument,
                "pid " + std::to_string(pid) + " cannot be attached; give a child of yours");
  }
  if (!agent || !agent->live()) {
    throw Error(ErrorKind::kNotFound,
                "no running agent named \"" + name + "\"; see novactl status");
  }
  if (agent->active_state != "active") {
    throw Error(ErrorKind::kNotFound, "agent \"" + name + "\" is " + agent->active_state +
                                          ", not running; nothing can be run in it");
  }
  std::string caller_name = UserNameForUid(caller_uid);
  if (caller_uid != 0 && agent->user != caller_name) {
    throw Error(ErrorKind::kPermissionDenied, "agent \"" + name + "\" runs as " + agent->user +
                                                  "; only its user or root may run commands in it");
  }
  std::string process = "process " + std::to_string(pid);
  if (!target) throw Error(ErrorKind::kNotFound, process + " does not exist");
  if (target->ppid != caller_pid) {
    throw Error(ErrorKind::kPermissionDenied, process + " is not a child of the calling process (" +
                                                  std::to_string(caller_pid) +
                                                  "); only a caller's own child may be attached");
  }
  for (uint32_t uid : target->uids) {
    if (uid != caller_uid) {
      throw Error(ErrorKind::kPermissionDenied, process + " runs with uid " + std::to_string(uid) +
                                                    ", not the caller's (" +
                                                    std::to_string(caller_uid) +
                                                    "); only a process with exactly the caller's "
                                                    "ids may be attached");
    }
  }
  if (target->cgroup.empty()) throw Error(ErrorKind::kNotFound, process + " does not exist");
  if (auto in = AgentOfCgroup(target->cgroup)) {
    throw Error(ErrorKind::kPermissionDenied,
                process + " is already in the agents' slice (" + target->cgroup + ")");
  }
}

std::unique_ptr<AttachTarget> PinProcess(uint32_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
  if (fd < 0) return nullptr;
  return std::make_unique<PidfdTarget>(pid, fd);
}

}  // namespace nova
