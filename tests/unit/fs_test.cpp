#include "fs.h"

#include <fcntl.h>
#include <signal.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace stdfs = std::filesystem;
using namespace testing_support;

// Restores the process umask at the end of a scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(UniqueFdTest, ClosesOnDestruction) {
  int raw = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  { UniqueFd fd(raw); }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(UniqueFdTest, MoveTransfersOwnership) {
  int raw = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  UniqueFd a(raw);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  EXPECT_EQ(b.get(), raw);
  UniqueFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_NE(::fcntl(raw, F_GETFD), -1);
}

TEST(UniqueFdTest, ReleaseGivesUpOwnership) {
  int raw = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  {
    UniqueFd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_NE(::fcntl(raw, F_GETFD), -1);
  ::close(raw);
}

TEST(FsTest, ReadFileReadsWholeFile) {
  TempDir dir;
  std::string big(20000, 'x');
  write_file(dir / "f", big);
  EXPECT_EQ(read_file(dir / "f"), big);
}

TEST(FsTest, ReadFileMissingNamesThePath) {
  TempDir dir;
  auto t = thrown_by([&] { read_file(dir / "missing"); });
  EXPECT_EQ(t.message, "open \"" + (dir / "missing") + "\": No such file or directory");
}

TEST(FsTest, AnAbsentFileIsNotFound) {
  TempDir dir;
  auto read = [](const std::string& path) { return if_found([&] { return read_file(path); }); };
  EXPECT_EQ(read(dir / "missing"), std::nullopt);
  EXPECT_EQ(read(dir / "missing/below"), std::nullopt);
  write_file(dir / "file", "x");
  EXPECT_EQ(read(dir / "file/below"), std::nullopt);  // ENOTDIR
  EXPECT_EQ(read(dir / "file"), "x");
  EXPECT_EQ(thrown_by([&] { read_file(dir / "file/below"); }).message,
            "open \"" + (dir / "file/below") + "\": No such file or directory");
}

TEST(FsTest, ReadFileAtReadsRegularFile) {
  TempDir dir;
  write_file(dir / "tasks", "2000,2001");
  UniqueFd fd = open_dir(dir.path());
  EXPECT_EQ(read_file_at(fd.get(), "tasks", "display/tasks"), "2000,2001");
}

TEST(FsTest, ReadFileAtRefusesSymlink) {
  TempDir dir;
  write_file(dir / "target", "secret");
  stdfs::create_symlink(dir / "target", dir / "tasks");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { read_file_at(fd.get(), "tasks", "/etc/kcm/x/tasks"); });
  EXPECT_EQ(t.message, "open \"/etc/kcm/x/tasks\": is a symlink, refusing to follow it");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST(FsTest, ReadFileAtRefusesDanglingSymlink) {
  TempDir dir;
  stdfs::create_symlink(dir / "nowhere", dir / "tasks");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { if_found([&] { return read_file_at(fd.get(), "tasks", "d/tasks"); }); });
  EXPECT_EQ(t.message, "open \"d/tasks\": is a symlink, refusing to follow it");
}

TEST(FsTest, ReadFileAtRefusesDirectory) {
  TempDir dir;
  stdfs::create_directory(dir / "sub");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { read_file_at(fd.get(), "sub", "d/sub"); });
  EXPECT_EQ(t.message, "open \"d/sub\": is not a regular file");
}

TEST(FsTest, ReadFileAtRefusesFifoWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { read_file_at(fd.get(), "fifo", "d/fifo"); });
  EXPECT_EQ(t.message, "open \"d/fifo\": is not a regular file");
}

TEST(FsTest, ReadFileAtMissingNamesDisplay) {
  TempDir dir;
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { read_file_at(fd.get(), "tasks", "d/tasks"); });
  EXPECT_EQ(t.message, "open \"d/tasks\": No such file or directory");
  EXPECT_EQ(if_found([&] { return read_file_at(fd.get(), "tasks", "d/tasks"); }), std::nullopt);
}

TEST(FsTest, OpenDirAtRefusesSymlinkToDirectory) {
  TempDir dir;
  stdfs::create_directory(dir / "real");
  stdfs::create_directory_symlink(dir / "real", dir / "link");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { open_dir_at(fd.get(), "link", "d/link"); });
  EXPECT_EQ(t.message, "open \"d/link\": is a symlink, refusing to follow it");
}

TEST(FsTest, OpenDirAtRefusesRegularFile) {
  TempDir dir;
  write_file(dir / "file", "");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { open_dir_at(fd.get(), "file", "d/file"); });
  EXPECT_EQ(t.message, "open \"d/file\": is not a directory");
}

TEST(FsTest, OpenDirAtMissingNamesDisplay) {
  TempDir dir;
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { open_dir_at(fd.get(), "none", "d/none"); });
  EXPECT_EQ(t.message, "open \"d/none\": No such file or directory");
}

TEST(FsTest, OpenDirFollowsSymlinkGivenAsPath) {
  TempDir dir;
  write_file(dir / "real/f", "x");
  stdfs::create_directory_symlink(dir / "real", dir / "link");
  UniqueFd fd = open_dir(dir / "link");
  EXPECT_EQ(read_file_at(fd.get(), "f", "f"), "x");
}

TEST(FsTest, OpenDirOfFileNamesThePath) {
  TempDir dir;
  write_file(dir / "file", "");
  auto t = thrown_by([&] { open_dir(dir / "file"); });
  EXPECT_EQ(t.message, "open \"" + (dir / "file") + "\": is not a directory");
}

TEST(FsTest, WriteFileAtomicCreatesFileWithContent) {
  TempDir dir;
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "2000", "d/tasks");
  EXPECT_EQ(read_text(dir / "tasks"), "2000");
  EXPECT_EQ(mode_of(dir / "tasks"), 0644u);
}

TEST(FsTest, WriteFileAtomicReplacesExistingFile) {
  TempDir dir;
  write_file(dir / "tasks", "a much longer old content");
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "", "d/tasks");
  EXPECT_EQ(read_text(dir / "tasks"), "");
  write_file_atomic(fd.get(), "tasks", "1,2", "d/tasks");
  EXPECT_EQ(read_text(dir / "tasks"), "1,2");
}

TEST(FsTest, WriteFileAtomicReplacesByRenameNotInPlace) {
  TempDir dir;
  write_file(dir / "tasks", "old");
  int old_fd = ::open((dir / "tasks").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(old_fd, 0);
  UniqueFd old(old_fd);
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "new", "d/tasks");
  // A reader that opened the file before still sees the whole old content.
  char buf[8] = {};
  EXPECT_EQ(::pread(old.get(), buf, sizeof buf, 0), 3);
  EXPECT_STREQ(buf, "old");
  EXPECT_EQ(read_text(dir / "tasks"), "new");
}

TEST(FsTest, WriteFileAtomicGivesTheRequestedModeDespiteUmask) {
  TempDir dir;
  ScopedUmask mask(077);
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "kcm", "#!", "d/kcm", 0755);
  EXPECT_EQ(mode_of(dir / "kcm"), 0755u);
}

TEST(FsTest, WriteFileAtomicKeepsAGivenRestrictiveMode) {
  TempDir dir;
  write_file(dir / "config.json", "{}");
  ::chmod((dir / "config.json").c_str(), 0600);
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "config.json", "{\"a\":1}", "d/config.json", 0600);
  EXPECT_EQ(mode_of(dir / "config.json"), 0600u);
  EXPECT_EQ(read_text(dir / "config.json"), "{\"a\":1}");
}

TEST(FsTest, WriteFileAtomicLeavesNoTempFile) {
  TempDir dir;
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "1", "d/tasks");
  write_file_atomic(fd.get(), "tasks", "2", "d/tasks");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"tasks"});
}

TEST(FsTest, WriteFileAtomicReplacesSymlinkInsteadOfFollowingIt) {
  TempDir dir;
  write_file(dir / "outside", "keep");
  stdfs::create_symlink(dir / "outside", dir / "tasks");
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "1", "d/tasks");
  EXPECT_EQ(read_text(dir / "outside"), "keep");
  EXPECT_FALSE(stdfs::is_symlink(dir / "tasks"));
  EXPECT_EQ(read_text(dir / "tasks"), "1");
}

// The temp name is predictable; whoever may write the directory can plant a hard link to
// another file there before kcm writes.
TEST(FsTest, WriteFileAtomicDoesNotWriteThroughAHardLinkAtItsTempName) {
  TempDir dir;
  TempDir elsewhere;
  write_file(elsewhere / "secret", "keep");
  ASSERT_EQ(::chmod((elsewhere / "secret").c_str(), 0600), 0);
  const std::string temp = ".tasks.tmp-" + std::to_string(::getpid());
  ASSERT_EQ(::link((elsewhere / "secret").c_str(), (dir / temp).c_str()), 0);
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "2000", "d/tasks");
  EXPECT_EQ(read_text(elsewhere / "secret"), "keep");
  EXPECT_EQ(mode_of(elsewhere / "secret"), 0600u);
  EXPECT_EQ(links_of(elsewhere / "secret"), 1u);
  EXPECT_EQ(read_text(dir / "tasks"), "2000");
  EXPECT_EQ(mode_of(dir / "tasks"), 0644u);
  EXPECT_EQ(links_of(dir / "tasks"), 1u);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"tasks"});
}

TEST(FsTest, WriteFileAtomicReplacesASymlinkAtItsTempName) {
  TempDir dir;
  write_file(dir / "outside", "keep");
  const std::string temp = ".tasks.tmp-" + std::to_string(::getpid());
  stdfs::create_symlink(dir / "outside", dir / temp);
  UniqueFd fd = open_dir(dir.path());
  write_file_atomic(fd.get(), "tasks", "1", "d/tasks");
  EXPECT_EQ(read_text(dir / "outside"), "keep");
  EXPECT_EQ(read_text(dir / "tasks"), "1");
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"outside", "tasks"}));
}

// docs/config.md "What reaches the disk": only kSurvivesPowerLoss waits for the disk.
TEST(FsTest, OnlyDurableWritesWaitForTheDisk) {
  TempDir tmp;
  UniqueFd dir = open_dir(tmp.path());
  EXPECT_EQ(testing_support::run_without_disk_waits([&] {
              write_file_atomic(dir.get(), "tasks", "2000", tmp / "tasks", 0644,
                                Durability::kThisBoot);
              write_file_atomic(dir.get(), "tasks", "2001", tmp / "tasks", 0644,
                                Durability::kThisBoot);
              if (read_text(tmp / "tasks") != "2001" ||
                  names_in(tmp.path()) != std::vector<std::string>{"tasks"}) {
                return 1;
              }
              remove_file_at(dir.get(), "tasks", tmp / "tasks", Durability::kThisBoot);
              return 0;
            }),
            0);
  EXPECT_EQ(testing_support::run_without_disk_waits([&] {
              write_file_atomic(dir.get(), "exclusive", "1", tmp / "exclusive");
              return 0;
            }),
            128 + SIGSYS);
  write_file_atomic(dir.get(), "exclusive", "1", tmp / "exclusive");
  EXPECT_EQ(testing_support::run_without_disk_waits([&] {
              remove_file_at(dir.get(), "exclusive", tmp / "exclusive");
              return 0;
            }),
            128 + SIGSYS);
}

TEST(FsTest, WriteFileAtomicFailureNamesTheFile) {
  TempDir dir;
  // The temp file's name is taken by a directory: the create fails.
  stdfs::create_directory(dir / (".tasks.tmp-" + std::to_string(::getpid())));
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { write_file_atomic(fd.get(), "tasks", "1", "d/tasks"); });
  EXPECT_EQ(t.message, "create \"d/tasks (temp file)\": Is a directory");
  EXPECT_FALSE(stdfs::exists(dir / "tasks"));
}

TEST(FsTest, ListDirIsSortedWithTypesAndWithoutDots) {
  TempDir dir;
  write_file(dir / "b", "");
  write_file(dir / "a/x", "");
  write_file(dir / ".hidden", "");
  write_file(dir / "10", "");
  write_file(dir / "9", "");
  stdfs::create_symlink("a", dir / "c");
  UniqueFd fd = open_dir(dir.path());
  std::vector<std::pair<std::string, EntryType>> got;
  for (const DirEntry& e : list_dir(fd.get(), "d")) got.emplace_back(e.name, e.type);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, EntryType>>{
                     {".hidden", EntryType::kFile},
                     {"10", EntryType::kFile},
                     {"9", EntryType::kFile},
                     {"a", EntryType::kDirectory},
                     {"b", EntryType::kFile},
                     {"c", EntryType::kSymlink},
                 }));
}

TEST(FsTest, ListDirReportsFifoAsOther) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "p").c_str(), 0644), 0);
  UniqueFd fd = open_dir(dir.path());
  auto entries = list_dir(fd.get(), "d");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].type, EntryType::kOther);
}

TEST(FsTest, ListDirCanBeCalledTwiceOnOneFd) {
  TempDir dir;
  write_file(dir / "a", "");
  UniqueFd fd = open_dir(dir.path());
  EXPECT_EQ(list_dir(fd.get(), "d").size(), 1u);
  EXPECT_EQ(list_dir(fd.get(), "d").size(), 1u);
}

TEST(FsTest, RemoveFileAtRemovesFile) {
  TempDir dir;
  write_file(dir / "f", "");
  UniqueFd fd = open_dir(dir.path());
  remove_file_at(fd.get(), "f", "d/f");
  EXPECT_FALSE(stdfs::exists(dir / "f"));
}

TEST(FsTest, RemoveFileAtOfAbsentFileIsNoError) {
  TempDir dir;
  UniqueFd fd = open_dir(dir.path());
  EXPECT_NO_THROW(remove_file_at(fd.get(), "f", "d/f"));
}

TEST(FsTest, RemoveFileAtOfDirectoryNamesIt) {
  TempDir dir;
  stdfs::create_directory(dir / "sub");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { remove_file_at(fd.get(), "sub", "d/sub"); });
  EXPECT_EQ(t.message, "remove \"d/sub\": Is a directory");
}

TEST(FsTest, RemoveTreeAtRemovesNestedTree) {
  TempDir dir;
  write_file(dir / "tree/a/b/c", "1");
  write_file(dir / "tree/.x", "2");
  UniqueFd fd = open_dir(dir.path());
  remove_tree_at(fd.get(), "tree", "d/tree");
  EXPECT_TRUE(stdfs::is_empty(dir.path()));
}

TEST(FsTest, RemoveTreeAtDoesNotFollowSymlinks) {
  TempDir dir;
  write_file(dir / "outside/keep", "1");
  write_file(dir / "tree/f", "");
  stdfs::create_directory_symlink(dir / "outside", dir / "tree/link");
  UniqueFd fd = open_dir(dir.path());
  remove_tree_at(fd.get(), "tree", "d/tree");
  EXPECT_FALSE(stdfs::exists(dir / "tree"));
  EXPECT_EQ(read_text(dir / "outside/keep"), "1");
}

TEST(FsTest, RemoveTreeAtRefusesSymlinkAsTheTree) {
  TempDir dir;
  write_file(dir / "outside/keep", "1");
  stdfs::create_directory_symlink(dir / "outside", dir / "tree");
  UniqueFd fd = open_dir(dir.path());
  auto t = thrown_by([&] { remove_tree_at(fd.get(), "tree", "d/tree"); });
  EXPECT_EQ(t.message, "open \"d/tree\": is a symlink, refusing to follow it");
  EXPECT_EQ(read_text(dir / "outside/keep"), "1");
}

TEST(FsTest, IsTempNameMeansLeadingDot) {
  EXPECT_TRUE(is_temp_name(".tasks.tmp-12"));
  EXPECT_TRUE(is_temp_name(".pools.tmp-1"));
  EXPECT_FALSE(is_temp_name("tasks"));
  EXPECT_FALSE(is_temp_name(""));
}

TEST(FsTest, JoinPathAddsOneSlash) {
  EXPECT_EQ(join_path("/etc/kcm", "pools"), "/etc/kcm/pools");
  EXPECT_EQ(join_path("/etc/kcm/", "pools"), "/etc/kcm/pools");
}

}  // namespace
}  // namespace kcm
