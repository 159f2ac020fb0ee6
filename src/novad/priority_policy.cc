#include "priority_policy.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>

#include "text.h"

namespace nova {
namespace {

std::optional<int> ParseInt(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The variable's value if set and valid; otherwise `fallback`, noting why.
int Setting(const std::function<std::optional<std::string>(const std::string&)>& getenv,
            const std::string& name, int low, int high, int fallback,
            std::vector<std::string>& problems) {
  auto text = getenv(name);
  if (!text) return fallback;
  auto value = ParseInt(*text);
  if (value && *value >= low && *value <= high) return *value;
  problems.push_back("invalid " + name + "=\"" + Printable(*text) +
                     "\": " + (value ? "out of range" : "not a number") +
                     "; accepted: " + std::to_string(low) + " to " + std::to_string(high) +
                     "; using the default " + std::to_string(fallback));
  return fallback;
}

}  // namespace

int ChildOomScore(int own) {
  if (own < 0) return 0;
  if (own >= 998) return 1000;
  return 998;
}

int ChildNice(int own_nice) { return std::min(own_nice + 5, 19); }

bool IsCustomOomScore(int value, int own) {
  return value != 0 && value != 998 && value != 1000 && value != own;
}

PriorityPolicy ComputePriorityPolicy(
    const std::function<std::optional<std::string>(const std::string&)>& getenv,
    int own_oom_score_adj, int own_nice) {
  PriorityPolicy policy;
  policy.own_oom_score_adj = own_oom_score_adj;
  policy.enabled = getenv("CODER_PROC_PRIO_MGMT").has_value();
  if (!policy.enabled) return policy;
  policy.oom_score_adj = Setting(getenv, "CODER_PROC_OOM_SCORE", -1000, 1000,
                                 ChildOomScore(own_oom_score_adj), policy.problems);
  policy.nice =
      Setting(getenv, "CODER_PROC_NICE_SCORE", -20, 19, ChildNice(own_nice), policy.problems);
  return policy;
}

PriorityPolicy ReadPriorityPolicy() {
  int own_oom = 0;
  std::ifstream("/proc/self/oom_score_adj") >> own_oom;
  errno = 0;
  int own_nice = getpriority(PRIO_PROCESS, 0);
  return ComputePriorityPolicy(
      [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
      },
      own_oom, own_nice);
}

}  // namespace nova
