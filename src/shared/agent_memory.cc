#include "agent_memory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "size.h"

namespace nova {
namespace fs = std::filesystem;
namespace {

std::optional<uint64_t> ReadLimit(const fs::path& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  if (text == "max") return kInfinity;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<AgentMemory> VictimOrder(std::vector<AgentMemory> agents) {
  std::sort(agents.begin(), agents.end(), [](const AgentMemory& a, const AgentMemory& b) {
    if (a.current != b.current) return a.current > b.current;
    return a.agent < b.agent;
  });
  return agents;
}

std::vector<AgentMemory> ReadAgentMemory(const std::string& agents_cgroup) {
  std::vector<AgentMemory> agents;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(agents_cgroup, ec)) {
    auto name = AgentNameFromUnit(entry.path().filename().string());
    if (!name) continue;
    auto current = ReadLimit(entry.path() / "memory.current");
    if (!current) continue;  // gone meanwhile
    agents.push_back({*name, *current, ReadLimit(entry.path() / "memory.max").value_or(kInfinity)});
  }
  std::sort(agents.begin(), agents.end(),
            [](const AgentMemory& a, const AgentMemory& b) { return a.agent < b.agent; });
  return agents;
}

}  // namespace nova
