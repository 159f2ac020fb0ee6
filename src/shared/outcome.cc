#include "outcome.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "errors.h"

namespace nova {
namespace fs = std::filesystem;

std::string StartFailureReason(const std::string& exit_status) {
  static const std::map<std::string, std::string> kReasons = {
      {"200", "the working directory could not be entered (200/CHDIR)"},
      {"203", "the command could not be executed (203/EXEC)"},
      {"216", "the group could not be set (216/GROUP)"},
      {"217", "the user could not be set (217/USER)"},
      {"218", "capabilities could not be set (218/CAPABILITIES)"},
  };
  auto it = kReasons.find(exit_status);
  return it == kReasons.end() ? "" : it->second;
}

bool OomKilled(const Outcome& o) {
  return o.service_result == "oom-kill" || (o.oom_kills > 0 && o.exit_code != "exited");
}

std::string DescribeOutcome(const Outcome& o) {
  if (o.killed) {
    return "killed by " + o.killed->by + " (" + o.killed->reason + ")";
  }
  if (OomKilled(o)) {
    return "oom-killed (memory limit)";
  }
  if (o.service_result == "timeout") {
    return "hard timeout (stopped at RuntimeMaxSec)";
  }
  std::string text;
  if (o.exit_code == "exited") {
    std::string reason = StartFailureReason(o.exit_status);
    text = reason.empty() ? "exited " + o.exit_status : "failed to start: " + reason;
  } else if (o.exit_code == "killed" || o.exit_code == "dumped") {
    text = "killed by signal " + o.exit_status + (o.exit_code == "dumped" ? " (core dumped)" : "");
  } else {
    text = o.service_result.empty() ? "unknown" : o.service_result;
  }
  if (o.oom_kills > 0) {
    text += "; " + std::to_string(o.oom_kills) + " process(es) oom-killed";
  }
  return text;
}

nlohmann::json OutcomeToJson(const Outcome& o) {
  nlohmann::json j = {
      {"agent", o.agent},
      {"service_result", o.service_result},
      {"exit_code", o.exit_code},
      {"exit_status", o.exit_status},
      {"oom_kills", o.oom_kills},
      {"user", o.user},
      {"finished_at_usec", o.finished_at_usec},
      {"description", DescribeOutcome(o)},
  };
  if (o.killed) {
    j["killed_by"] = o.killed->by;
    j["kill_reason"] = o.killed->reason;
  }
  return j;
}

Outcome OutcomeFromJson(const nlohmann::json& j) {
  Outcome o;
  o.agent = j.value("agent", "");
  o.service_result = j.value("service_result", "");
  o.exit_code = j.value("exit_code", "");
  o.exit_status = j.value("exit_status", "");
  o.oom_kills = j.value("oom_kills", uint64_t{0});
  o.user = j.value("user", "");
  o.finished_at_usec = j.value("finished_at_usec", int64_t{0});
  if (j.contains("killed_by")) {
    o.killed = KillMarker{j.value("killed_by", ""), j.value("kill_reason", "")};
  }
  return o;
}

namespace {

void WriteFileAtomically(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  // One temporary file per thread: novad's workers and watcher may write
  // the same agent's file at once (a kill marker), and the last rename wins.
  fs::path tmp = path;
  tmp += "." + std::to_string(::gettid()) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      throw Error(ErrorKind::kFailed, "cannot write " + tmp.string());
    }
  }
  fs::rename(tmp, path);
}

std::optional<nlohmann::json> ReadJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace

OutcomeStore::OutcomeStore(std::string state_dir, const std::string& runtime_dir)
    : outcomes_dir_(std::move(state_dir) + "/outcomes"),
      kill_dir_(runtime_dir + "/kill"),
      owners_dir_(runtime_dir + "/agents"),
      secrets_dir_(runtime_dir + "/secrets") {}

void OutcomeStore::Write(const Outcome& outcome) const {
  WriteFileAtomically(fs::path(outcomes_dir_) / (outcome.agent + ".json"),
                      OutcomeToJson(outcome).dump(2) + "\n");
}

std::optional<Outcome> OutcomeStore::Read(const std::string& agent) const {
  auto j = ReadJson(fs::path(outcomes_dir_) / (agent + ".json"));
  if (!j) return std::nullopt;
  return OutcomeFromJson(*j);
}

std::vector<Outcome> OutcomeStore::ReadAll() const {
  std::vector<Outcome> all;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(outcomes_dir_, ec)) {
    if (entry.path().extension() != ".json") continue;
    if (auto j = ReadJson(entry.path())) all.push_back(OutcomeFromJson(*j));
  }
  return all;
}

void OutcomeStore::WriteKillMarker(const std::string& agent, const KillMarker& marker) const {
  nlohmann::json j = {{"by", marker.by}, {"reason", marker.reason}};
  WriteFileAtomically(fs::path(kill_dir_) / (agent + ".json"), j.dump() + "\n");
}

std::optional<KillMarker> OutcomeStore::TakeKillMarker(const std::string& agent) const {
  fs::path path = fs::path(kill_dir_) / (agent + ".json");
  auto j = ReadJson(path);
  ClearKillMarker(agent);
  if (!j) return std::nullopt;
  return KillMarker{j->value("by", ""), j->value("reason", "")};
}

void OutcomeStore::KillMarked(const std::string& agent, const KillMarker& marker,
                              const std::function<void()>& kill) const {
  WriteKillMarker(agent, marker);
  try {
    kill();
  } catch (...) {
    ClearKillMarker(agent);
    throw;
  }
}

void OutcomeStore::ClearKillMarker(const std::string& agent) const {
  std::error_code ec;
  fs::remove(fs::path(kill_dir_) / (agent + ".json"), ec);
}

}  // namespace nova

namespace nova {

void OutcomeStore::WriteOwner(const std::string& agent, const std::string& user) const {
  nlohmann::json j = {{"user", user}};
  WriteFileAtomically(fs::path(owners_dir_) / (agent + ".json"), j.dump() + "\n");
}

std::optional<std::string> OutcomeStore::TakeOwner(const std::string& agent) const {
  fs::path path = fs::path(owners_dir_) / (agent + ".json");
  auto j = ReadJson(path);
  std::error_code ec;
  fs::remove(path, ec);
  if (!j) return std::nullopt;
  return j->value("user", "");
}

std::map<std::string, std::string> OutcomeStore::WriteSecrets(
    const std::string& agent, const std::map<std::string, std::string>& secrets) const {
  std::map<std::string, std::string> paths;
  RemoveSecrets(agent);
  if (secrets.empty()) return paths;
  fs::path dir = fs::path(secrets_dir_) / agent;
  fs::create_directories(dir.parent_path());
  fs::permissions(dir.parent_path(), fs::perms::owner_all);
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms::owner_all);
  for (const auto& [name, value] : secrets) {
    fs::path path = dir / name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
    if (fd < 0) throw Error(ErrorKind::kFailed, "cannot create " + path.string());
    bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
    ok = (::close(fd) == 0) && ok;
    if (!ok) throw Error(ErrorKind::kFailed, "cannot write " + path.string());
    paths[name] = path.string();
  }
  return paths;
}

void OutcomeStore::RemoveSecrets(const std::string& agent) const {
  std::error_code ec;
  fs::remove_all(fs::path(secrets_dir_) / agent, ec);
}

}  // namespace nova
