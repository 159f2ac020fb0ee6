#include "watch_host.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "build_config.h"
#include "duration.h"
#include "errors.h"
#include "size.h"
#include "watch_events.h"

namespace nova {
namespace fs = std::filesystem;

LinuxWatchHost::LinuxWatchHost(Systemd& systemd, const OutcomeStore& outcomes,
                               std::string agents_cgroup)
    : systemd_(systemd),
      outcomes_(outcomes),
      agents_cgroup_(agents_cgroup),
      oom_(agents_cgroup, std::string(kRuntimeDir) + "/" + kOomKillsFile) {}

LinuxOomSource::LinuxOomSource(std::string agents_cgroup, std::string state_file)
    : agents_cgroup_(std::move(agents_cgroup)), state_file_(std::move(state_file)) {}

LinuxOomSource::~LinuxOomSource() {
  if (kmsg_ >= 0) ::close(kmsg_);
}

std::vector<AgentOomCount> LinuxOomSource::ReadOomCounts() {
  std::vector<AgentOomCount> counts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(agents_cgroup_, ec)) {
    auto name = AgentNameFromUnit(entry.path().filename().string());
    if (!name) continue;
    auto id = CgroupId(entry.path().string());
    std::ifstream in(entry.path() / "memory.events");
    if (!id || !in) continue;  // gone meanwhile
    std::string key;
    uint64_t value = 0;
    while (in >> key >> value) {
      if (key == "oom_kill") {
        counts.push_back({*name, *id, value});
        break;
      }
    }
  }
  return counts;
}

std::vector<std::string> LinuxOomSource::ReadKernelLog() {
  std::vector<std::string> messages;
  if (!kmsg_tried_) {
    kmsg_tried_ = true;
    kmsg_ = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (kmsg_ < 0) {
      spdlog::warn(
          "cannot read /dev/kmsg ({}); OOM kills in agents are reported without the process",
          std::strerror(errno));
      return messages;
    }
    ::lseek(kmsg_, 0, SEEK_END);
  }
  if (kmsg_ < 0) return messages;
  // One record per read: "PRIORITY,SEQ,USEC,FLAGS;MESSAGE\n" and dictionary lines.
  char record[8192];
  for (int i = 0; i < 100000; ++i) {
    ssize_t n = ::read(kmsg_, record, sizeof record - 1);
    if (n < 0 && errno == EPIPE) continue;  // overwritten before we read it
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing more
    std::string_view text(record, static_cast<size_t>(n));
    size_t semicolon = text.find(';');
    if (semicolon == std::string_view::npos) continue;
    text.remove_prefix(semicolon + 1);
    size_t end = text.find('\n');
    messages.emplace_back(text.substr(0, end));
  }
  return messages;
}

std::optional<OomKillsByAgent> LinuxOomSource::LoadOomKills() { return ReadOomKills(state_file_); }

void LinuxOomSource::SaveOomKills(const OomKillsByAgent& kills) {
  try {
    WriteOomKills(state_file_, kills);
    save_failed_ = false;
  } catch (const Error& e) {
    if (!save_failed_) {
      spdlog::warn("{}; novactl status cannot show OOM kills", e.what());
    }
    save_failed_ = true;
  }
}

int64_t LinuxOomSource::RealtimeUsec() { return nova::RealtimeUsec(); }

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
