#include "oom_kills.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "errors.h"
#include "files.h"
#include "text.h"

namespace nova {

void WriteOomKills(const std::string& path, const OomKillsByAgent& kills) {
  nlohmann::json agents = nlohmann::json::object();
  for (const auto& [name, k] : kills) {
    agents[name] = {{"cgroup_id", k.cgroup_id},
                    {"oom_kills", k.count},
                    {"last_process", k.last_process},
                    {"last_pid", k.last_pid},
                    {"last_usec", k.last_usec}};
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    // The process names are escaped already; ensure_ascii keeps any other
    // byte out of the file too.
    out << nlohmann::json{{"agents", agents}}.dump(-1, ' ', true) << "\n";
    if (!out.flush()) {
      throw Error(ErrorKind::kFailed, "cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw Error(ErrorKind::kFailed, "cannot replace " + path + ": " + std::strerror(errno));
  }
}

std::optional<OomKillsByAgent> ReadOomKills(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("agents") || !j["agents"].is_object()) return std::nullopt;
  OomKillsByAgent kills;
  for (const auto& [name, entry] : j["agents"].items()) {
    try {
      AgentOomKills k;
      k.cgroup_id = entry.at("cgroup_id").get<uint64_t>();
      k.count = entry.at("oom_kills").get<uint64_t>();
      k.last_process = entry.value("last_process", std::string());
      k.last_pid = entry.value("last_pid", int64_t{0});
      k.last_usec = entry.value("last_usec", int64_t{0});
      kills[name] = std::move(k);
    } catch (const nlohmann::json::exception&) {
    }
  }
  return kills;
}

std::string DescribeOomKills(const AgentOomKills& k) {
  if (k.count == 0) return "0";
  if (k.last_usec == 0) return std::to_string(k.count) + " (before novad began to watch)";
  time_t when = static_cast<time_t>(k.last_usec / 1000000);
  tm local{};
  localtime_r(&when, &local);
  char at[16];
  std::strftime(at, sizeof at, "%H:%M:%S", &local);
  std::string last;
  if (!k.last_process.empty()) {
    // Escaped when recorded; escaped again should it hold a control character.
    std::string process = FindControl(k.last_process) ? Printable(k.last_process) : k.last_process;
    last = process + ", pid " + std::to_string(k.last_pid) + ", " + at;
  } else {
    last = std::string(at) + ", process not named by the kernel log";
  }
  return std::to_string(k.count) + " (last: " + last + ")";
}

std::optional<uint64_t> CgroupId(const std::string& cgroup_dir) {
  struct stat st {};
  if (::stat(cgroup_dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace nova
