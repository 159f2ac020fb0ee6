#include "journal.h"

#include <string_view>

namespace nova {

std::string JournalField(sd_journal* journal, const char* name) {
  const void* data = nullptr;
  size_t length = 0;
  if (sd_journal_get_data(journal, name, &data, &length) < 0) return "";
  std::string_view field(static_cast<const char*>(data), length);
  size_t eq = field.find('=');
  return eq == std::string_view::npos ? "" : std::string(field.substr(eq + 1));
}

}  // namespace nova
