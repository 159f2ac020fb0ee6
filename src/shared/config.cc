#include "config.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "errors.h"
#include "files.h"
#include "meminfo.h"
#include "size.h"
#include "text.h"

namespace nova {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A finite number, with or without '%'. from_chars also reads "nan" and
// "inf", which would pass (or defeat) every comparison made with them.
std::optional<double> ParsePercent(std::string_view text) {
  if (text.ends_with('%')) text.remove_suffix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<uint64_t> ParseCount(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "yes" || text == "true" || text == "on" || text == "1") return true;
  if (text == "no" || text == "false" || text == "off" || text == "0") return false;
  return std::nullopt;
}

using Setter = std::function<bool(Config&, std::string_view)>;

struct Key {
  Setter set;
  std::string accepted;
};

// A guard's threshold at 100% of memory used never fires (MemAvailable never
// reaches 0) and one at 0% always does, so theirs stay strictly between.
enum class Ends { kIncluded, kExcluded };

Key Percent(double Config::*field, Ends ends) {
  return {[field, ends](Config& c, std::string_view v) {
            auto p = ParsePercent(v);
            bool ok = p && (ends == Ends::kIncluded ? *p >= 0 && *p <= 100 : *p > 0 && *p < 100);
            if (ok) c.*field = *p;
            return ok;
          },
          ends == Ends::kIncluded ? "a percentage from 0 to 100"
                                  : "a percentage above 0 and below 100"};
}

Setter Duration(Usec Config::*field) {
  return [field](Config& c, std::string_view v) {
    auto d = ParseDuration(v);
    if (d && d->count() > 0) c.*field = *d;
    return d && d->count() > 0;
  };
}

// Memory, tasks and runtime take only what a spawn would accept, so that a
// default or a ceiling never promises more than novad can give.
Key SpawnMemory(uint64_t Config::*field) {
  return {[field](Config& c, std::string_view v) {
            auto s = ParseSize(v);
            bool ok = s && *s >= kMinMemoryMax && *s != kInfinity;
            if (ok) c.*field = *s;
            return ok;
          },
          "a size of at least " + FormatSize(kMinMemoryMax) + " such as 4G"};
}

Key SpawnTasks(uint64_t Config::*field) {
  return {[field](Config& c, std::string_view v) {
            auto n = ParseCount(v);
            bool ok = n && *n >= 1 && *n <= kMaxTasksMax;
            if (ok) c.*field = *n;
            return ok;
          },
          "a count from 1 to " + std::to_string(kMaxTasksMax) + " such as 512"};
}

Key SpawnRuntime(Usec Config::*field) {
  return {[field](Config& c, std::string_view v) {
            auto d = ParseDuration(v);
            bool ok = d && *d >= kMinRuntime && *d <= kMaxRuntime;
            if (ok) c.*field = *d;
            return ok;
          },
          "a duration from " + FormatDuration(kMinRuntime) + " to " + FormatDuration(kMaxRuntime) +
              " such as 30min"};
}

Key SandboxKey(SandboxProfile Config::*field) {
  return {[field](Config& c, std::string_view v) {
            auto p = ParseSandboxProfile(v);
            if (p) c.*field = *p;
            return p.has_value();
          },
          kSandboxProfilesAccepted};
}

const std::map<std::string, Key, std::less<>>& Keys() {
  static const std::map<std::string, Key, std::less<>> keys = {
      {"MemoryMax", SpawnMemory(&Config::memory_max)},
      {"TasksMax", SpawnTasks(&Config::tasks_max)},
      {"RuntimeMax", SpawnRuntime(&Config::runtime_max)},
      {"MemoryMaxCeiling", SpawnMemory(&Config::memory_max_ceiling)},
      {"TasksMaxCeiling", SpawnTasks(&Config::tasks_max_ceiling)},
      {"RuntimeMaxCeiling", SpawnRuntime(&Config::runtime_max_ceiling)},
      {"SoftTimeout",
       {[](Config& c, std::string_view v) {
          auto d = ParseDuration(v);
          if (d) c.soft_timeout = *d;
          return d.has_value();
        },
        "a duration such as 15min, or 0 for none"}},
      {"TimeoutStop", {Duration(&Config::timeout_stop), "a duration such as 10s"}},
      {"StartTimeout",
       {[](Config& c, std::string_view v) {
          auto d = ParseDuration(v);
          bool ok = d && *d >= kMinStartTimeout && *d <= kMaxStartTimeout;
          if (ok) c.start_timeout = *d;
          return ok;
        },
        "a duration from 1s to 2min such as 60s"}},
      {"AdmissionPercent", Percent(&Config::admission_percent, Ends::kExcluded)},
      {"AdmissionReopenPercent", Percent(&Config::admission_reopen_percent, Ends::kExcluded)},
      {"ReliefPercent", Percent(&Config::relief_percent, Ends::kExcluded)},
      {"ReliefDryRun",
       {[](Config& c, std::string_view v) {
          auto b = ParseBool(v);
          if (b) c.relief_dry_run = *b;
          return b.has_value();
        },
        "yes or no"}},
      {"AgentSystemBus",
       {[](Config& c, std::string_view v) {
          auto b = ParseBool(v);
          if (b) c.agent_system_bus = *b;
          return b.has_value();
        },
        "yes or no"}},
      {"MetricsFile",
       {[](Config& c, std::string_view v) {
          if (!v.empty() && v.front() != '/') return false;
          c.metrics_file = std::string(v);
          return true;
        },
        "an absolute path, or empty for no metrics"}},
      {"MetricsInterval",
       {[](Config& c, std::string_view v) {
          auto d = ParseDuration(v);
          bool ok = d && *d >= std::chrono::seconds(1) && *d <= std::chrono::hours(1);
          if (ok) c.metrics_interval = *d;
          return ok;
        },
        "a duration from 1s to 1h such as 15s"}},
      {"Sandbox", SandboxKey(&Config::sandbox)},
      {"SandboxMinimum", SandboxKey(&Config::sandbox_minimum)},
      {"AllowIP",
       {[](Config& c, std::string_view v) {
          std::vector<std::string> words;
          std::vector<IpPrefix> prefixes;
          std::istringstream in{std::string(v)};
          for (std::string word; in >> word;) {
            auto parsed = ParseAllowIp(word);
            if (!parsed) return false;
            words.push_back(word);
            prefixes.insert(prefixes.end(), parsed->begin(), parsed->end());
          }
          if (prefixes.size() > kMaxAllowIp) return false;
          c.allow_ip_text = words;
          c.allow_ip = prefixes;
          return true;
        },
        "a space-separated list of at most " + std::to_string(kMaxAllowIp) + " entries, each " +
            kAllowIpAccepted + "; empty for none"}},
      {"WatchIntervalMax", {Duration(&Config::watch_interval_max), "a duration such as 1s"}},
      {"WatchIntervalMin", {Duration(&Config::watch_interval_min), "a duration such as 20ms"}},
      {"ReliefConfirmTimeout",
       {Duration(&Config::relief_confirm_timeout), "a duration such as 5s"}},
      {"PressureStall",
       {[](Config& c, std::string_view v) {
          auto d = ParseDuration(v);
          bool ok = d && *d < std::chrono::seconds(1);
          if (ok) c.pressure_stall = *d;
          return ok;
        },
        "a duration under 1s such as 100ms, or 0 for no PSI trigger"}},
      {"ReliefTargetPercent", Percent(&Config::relief_target_percent, Ends::kExcluded)},
      {"MaxAgents",
       {[](Config& c, std::string_view v) {
          if (v == "auto") {
            c.max_agents = 0;
            return true;
          }
          auto n = ParseCount(v);
          if (n && *n > 0) c.max_agents = *n;
          return n && *n > 0;
        },
        "a positive count, or auto"}},
      {"MaxAgentsPerUser",
       {[](Config& c, std::string_view v) {
          if (v == "unlimited") {
            c.max_agents_per_user = 0;
            return true;
          }
          auto n = ParseCount(v);
          if (n && *n > 0) c.max_agents_per_user = *n;
          return n && *n > 0;
        },
        "a positive count, or unlimited"}},
      {"SystemSharePercent", Percent(&Config::system_share_percent, Ends::kIncluded)},
      {"HeadroomPercent", Percent(&Config::headroom_percent, Ends::kIncluded)},
  };
  return keys;
}

std::string KnownKeys() {
  std::string out;
  for (const auto& [name, key] : Keys()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

Config ParseConfig(std::string_view text, std::string_view origin) {
  Config config;
  std::map<std::string, int, std::less<>> line_of;  // where each key was last set
  std::istringstream in{std::string(text)};
  std::string raw;
  int line_number = 0;
  while (std::getline(in, raw)) {
    ++line_number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    std::string where = std::string(origin) + ":" + std::to_string(line_number);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      throw Error(ErrorKind::kInvalidArgument,
                  where + ": \"" + Printable(line) + "\" is not Key=Value");
    }
    std::string_view name = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    auto it = Keys().find(name);
    if (it == Keys().end()) {
      throw Error(ErrorKind::kInvalidArgument,
                  where + ": unknown key \"" + Printable(name) + "\"; known keys: " + KnownKeys());
    }
    if (!it->second.set(config, value)) {
      throw Error(ErrorKind::kInvalidArgument, where + ": " + Printable(name) + "=\"" +
                                                   Printable(value) + "\" is not valid; expected " +
                                                   it->second.accepted);
    }
    line_of[std::string(name)] = line_number;
  }
  // A default above its ceiling would be refused to every caller but root.
  auto refuse_above = [&](const std::string& key, const std::string& value,
                          const std::string& ceiling_key, const std::string& ceiling) {
    auto it = line_of.find(key);
    if (it == line_of.end()) it = line_of.find(ceiling_key);
    std::string where = std::string(origin);
    if (it != line_of.end()) where += ":" + std::to_string(it->second);
    throw Error(ErrorKind::kInvalidArgument, where + ": " + key + " (" + value + ") is above " +
                                                 ceiling_key + " (" + ceiling +
                                                 "); raise the ceiling or lower the default");
  };
  if (config.memory_max > config.memory_max_ceiling) {
    refuse_above("MemoryMax", FormatSize(config.memory_max), "MemoryMaxCeiling",
                 FormatSize(config.memory_max_ceiling));
  }
  if (config.tasks_max > config.tasks_max_ceiling) {
    refuse_above("TasksMax", std::to_string(config.tasks_max), "TasksMaxCeiling",
                 std::to_string(config.tasks_max_ceiling));
  }
  if (config.runtime_max > config.runtime_max_ceiling) {
    refuse_above("RuntimeMax", FormatDuration(config.runtime_max), "RuntimeMaxCeiling",
                 FormatDuration(config.runtime_max_ceiling));
  }
  if (WeakerThan(config.sandbox, config.sandbox_minimum)) {
    auto it = line_of.find("Sandbox");
    if (it == line_of.end()) it = line_of.find("SandboxMinimum");
    std::string where = std::string(origin);
    if (it != line_of.end()) where += ":" + std::to_string(it->second);
    throw Error(ErrorKind::kInvalidArgument, where + ": Sandbox (" +
                                                 SandboxProfileName(config.sandbox) +
                                                 ") is weaker than SandboxMinimum (" +
                                                 SandboxProfileName(config.sandbox_minimum) +
                                                 "); strengthen the default or lower the minimum");
  }
  if (!(config.relief_target_percent < config.admission_percent &&
        config.admission_percent < config.relief_percent)) {
    throw Error(ErrorKind::kInvalidArgument, std::string(origin) +
                                                 ": thresholds must satisfy ReliefTargetPercent < "
                                                 "AdmissionPercent < ReliefPercent; got " +
                                                 FormatThreshold(config.relief_target_percent) +
                                                 " / " + FormatThreshold(config.admission_percent) +
                                                 " / " + FormatThreshold(config.relief_percent));
  }
  if (config.admission_reopen_percent >= config.admission_percent) {
    throw Error(ErrorKind::kInvalidArgument, std::string(origin) + ": AdmissionReopenPercent (" +
                                                 FormatThreshold(config.admission_reopen_percent) +
                                                 ") must be below AdmissionPercent (" +
                                                 FormatThreshold(config.admission_percent) + ")");
  }
  if (config.watch_interval_min > config.watch_interval_max) {
    throw Error(ErrorKind::kInvalidArgument, std::string(origin) + ": WatchIntervalMin (" +
                                                 FormatDuration(config.watch_interval_min) +
                                                 ") must not exceed WatchIntervalMax (" +
                                                 FormatDuration(config.watch_interval_max) + ")");
  }
  if (config.soft_timeout >= config.runtime_max) {
    throw Error(ErrorKind::kInvalidArgument, std::string(origin) + ": SoftTimeout (" +
                                                 FormatDuration(config.soft_timeout) +
                                                 ") must be shorter than RuntimeMax (" +
                                                 FormatDuration(config.runtime_max) + ")");
  }
  if (config.system_share_percent + config.headroom_percent >= 100) {
    throw Error(ErrorKind::kInvalidArgument,
                std::string(origin) + ": SystemSharePercent + HeadroomPercent must stay under 100");
  }
  return config;
}

Config LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  return text ? ParseConfig(*text, path) : Config{};
}

}  // namespace nova
