#include "cpuset.h"

#include <algorithm>
#include <charconv>

#include "error.h"

namespace kcm {
namespace {

std::string_view trim_kernel_text(std::string_view s) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Error list_error(std::string_view list, const std::string& why) {
  return Error("invalid CPU list " + quote(list) + ": " + why);
}

int parse_cpu(std::string_view list, std::string_view num) {
  if (num.empty()) throw list_error(list, "empty element");
  int value = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
  if (ec != std::errc() || end != num.data() + num.size() || value < 0) {
    if (ec == std::errc::result_out_of_range) {
      throw list_error(list, "CPU " + std::string(num) + " is out of range (0-" +
                                 std::to_string(CpuSet::kMaxCpus - 1) + ")");
    }
    throw list_error(list, quote(num) + " is not a CPU number");
  }
  if (value >= CpuSet::kMaxCpus) {
    throw list_error(list, "CPU " + std::to_string(value) + " is out of range (0-" +
                               std::to_string(CpuSet::kMaxCpus - 1) + ")");
  }
  return value;
}

}  // namespace

CpuSet::CpuSet(std::initializer_list<int> cpus) {
  for (int cpu : cpus) add(cpu);
}

CpuSet CpuSet::parse(std::string_view text) {
  const std::string_view list = trim_kernel_text(text);
  CpuSet set;
  if (list.empty()) return set;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view element = list.substr(pos, comma - pos);
    std::size_t dash = element.find('-');
    if (dash == std::string_view::npos) {
      set.cpus_.push_back(parse_cpu(list, element));
    } else {
      int lo = parse_cpu(list, element.substr(0, dash));
      int hi = parse_cpu(list, element.substr(dash + 1));
      if (hi < lo) {
        throw list_error(list, "range " + std::string(element) + " is descending");
      }
      for (int cpu = lo; cpu <= hi; ++cpu) set.cpus_.push_back(cpu);
    }
    pos = comma + 1;
  }
  std::sort(set.cpus_.begin(), set.cpus_.end());
  set.cpus_.erase(std::unique(set.cpus_.begin(), set.cpus_.end()), set.cpus_.end());
  return set;
}

CpuSet CpuSet::parse_mask(std::string_view text) {
  const std::string_view mask = trim_kernel_text(text);
  if (mask.empty()) throw Error("invalid CPU mask \"\": empty");
  CpuSet set;
  int bit = 0;
  // The rightmost hex digit holds CPUs 0-3.
  for (auto it = mask.rbegin(); it != mask.rend(); ++it) {
    char c = *it;
    if (c == ',') continue;
    int nibble;
    if (c >= '0' && c <= '9') {
      nibble = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      nibble = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      nibble = c - 'A' + 10;
    } else {
      throw Error("invalid CPU mask " + quote(mask) + ": " + quote(std::string(1, c)) +
                  " is not a hex digit");
    }
    for (int i = 0; i < 4; ++i, ++bit) {
      if (nibble & (1 << i)) {
        if (bit >= kMaxCpus) throw Error("invalid CPU mask " + quote(mask) + ": too wide");
        set.cpus_.push_back(bit);
      }
    }
  }
  return set;  // built in ascending order
}

std::string CpuSet::to_string() const {
  std::string out;
  std::size_t i = 0;
  while (i < cpus_.size()) {
    std::size_t j = i;
    while (j + 1 < cpus_.size() && cpus_[j + 1] == cpus_[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus_[i]);
    if (j - i >= 2) {
      out += '-';
      out += std::to_string(cpus_[j]);
    } else if (j == i + 1) {
      out += ',';
      out += std::to_string(cpus_[j]);
    }
    i = j + 1;
  }
  return out;
}

void CpuSet::add(int cpu) {
  if (cpu < 0 || cpu >= kMaxCpus) {
    throw Error("CPU " + std::to_string(cpu) + " is out of range (0-" +
                std::to_string(kMaxCpus - 1) + ")");
  }
  auto it = std::lower_bound(cpus_.begin(), cpus_.end(), cpu);
  if (it == cpus_.end() || *it != cpu) cpus_.insert(it, cpu);
}

void CpuSet::add(const CpuSet& other) {
  std::vector<int> merged;
  merged.reserve(cpus_.size() + other.cpus_.size());
  std::set_union(cpus_.begin(), cpus_.end(), other.cpus_.begin(), other.cpus_.end(),
                 std::back_inserter(merged));
  cpus_ = std::move(merged);
}

bool CpuSet::contains(int cpu) const { return std::binary_search(cpus_.begin(), cpus_.end(), cpu); }

bool CpuSet::intersects(const CpuSet& other) const { return !intersection(other).empty(); }

CpuSet CpuSet::intersection(const CpuSet& other) const {
  CpuSet out;
  std::set_intersection(cpus_.begin(), cpus_.end(), other.cpus_.begin(), other.cpus_.end(),
                        std::back_inserter(out.cpus_));
  return out;
}

CpuSet CpuSet::difference(const CpuSet& other) const {
  CpuSet out;
  std::set_difference(cpus_.begin(), cpus_.end(), other.cpus_.begin(), other.cpus_.end(),
                      std::back_inserter(out.cpus_));
  return out;
}

bool CpuSet::is_subset_of(const CpuSet& other) const {
  return std::includes(other.cpus_.begin(), other.cpus_.end(), cpus_.begin(), cpus_.end());
}

}  // namespace kcm
