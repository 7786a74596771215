#include "pools.h"

#include <charconv>
#include <string_view>

#include "error.h"

namespace kcm {

std::vector<pid_t> parse_tasks(const std::string& text, const std::string& display) {
  std::string_view s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  std::vector<pid_t> tasks;
  if (s.empty()) return tasks;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    std::string_view item = s.substr(pos, comma - pos);
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), pid);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || pid <= 0) {
      throw op_error("parse", display, "invalid PID " + quote(item));
    }
    tasks.push_back(pid);
    pos = comma + 1;
  }
  return tasks;
}

std::string format_tasks(const std::vector<pid_t>& tasks) {
  std::string out;
  for (pid_t pid : tasks) {
    if (!out.empty()) out += ',';
    out += std::to_string(pid);
  }
  return out;
}

}  // namespace kcm
