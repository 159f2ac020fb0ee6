#include "watch_host.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "errors.h"
#include "size.h"
#include "watch_events.h"

namespace nova {
namespace fs = std::filesystem;

LinuxWatchHost::LinuxWatchHost(Systemd& systemd, const OutcomeStore& outcomes,
                               std::string agents_cgroup)
    : systemd_(systemd), outcomes_(outcomes), agents_cgroup_(std::move(agents_cgroup)) {}

std::string LinuxWatchHost::CgroupOf(const std::string& agent) const {
  return agents_cgroup_ + "/" + AgentUnit(agent);
}

HostMemory LinuxWatchHost::ReadMemory() { return ReadHostMemory(); }

std::vector<AgentMemory> LinuxWatchHost::ReadAgents() { return ReadAgentMemory(agents_cgroup_); }

void LinuxWatchHost::KillAgent(const std::string& agent, const KillMarker& marker) {
  outcomes_.KillMarked(agent, marker, [&] {
    std::string cgroup = CgroupOf(agent);
    std::ofstream kill(cgroup + "/cgroup.kill");
    if (kill) {
      kill << "1" << std::flush;
      if (kill) return;
      throw Error(ErrorKind::kFailed, cgroup + "/cgroup.kill: " + std::strerror(errno));
    }
    std::error_code ec;
    if (!fs::exists(cgroup, ec)) return;  // already gone
    systemd_.KillUnit(AgentUnit(agent), "all", SIGKILL);
  });
}

std::optional<uint64_t> LinuxWatchHost::AgentAnonMemory(const std::string& agent) {
  std::ifstream in(CgroupOf(agent) + "/memory.stat");
  if (!in) return std::nullopt;
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "anon") return value;
  }
  return std::nullopt;
}

std::chrono::steady_clock::time_point LinuxWatchHost::Now() {
  return std::chrono::steady_clock::now();
}

void LinuxWatchHost::Sleep(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

void LinuxWatchHost::Emit(const WatchEvent& event) { JournalWatchEvent(event); }

}  // namespace nova
