#include "config_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "error.h"
#include "sha256.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace stdfs = std::filesystem;
using testing::ElementsAre;
using testing::StartsWith;
using namespace testing_support;

constexpr std::chrono::milliseconds kLockWait{5000};
const LockOptions kInitLock{"kcm init", "kcm: error: ", kLockWait};

Owner sample_owner(const std::string& id) {
  return Owner{id, 2000, 123456, "dataplane", {"4,12"}, "2026-11-30T04:17:45Z"};
}

class ConfigDirTest : public ConfDirTest {
 protected:
  std::string read_error() const {
    return thrown_by([&] { ConfigDir::open(conf).read(); }).message;
  }
};

// A file outside the configuration with content and a mode of its own, hard-linked at
// `link` (same file system: both are under the test's temp dir).
class OutsideFile {
 public:
  explicit OutsideFile(const std::string& link) {
    write_file(path(), "keep");
    EXPECT_EQ(::chmod(path().c_str(), 0600), 0);
    EXPECT_EQ(::link(path().c_str(), link.c_str()), 0) << link;
  }
  // Unchanged: content, mode, and no name but its own.
  void expect_untouched() const {
    EXPECT_EQ(read_text(path()), "keep");
    EXPECT_EQ(mode_of(path()), 0600u);
    EXPECT_EQ(links_of(path()), 1u);
  }
  std::string path() const { return dir_ / "secret"; }

 private:
  TempDir dir_;
};

// --- reading --------------------------------------------------------------------------

TEST_F(ConfigDirTest, OpenMissingDirectoryNamesIt) {
  EXPECT_EQ(thrown_by([&] { ConfigDir::open(conf); }).message,
            "open config directory: open \"" + conf + "\": No such file or directory");
}

TEST_F(ConfigDirTest, ReadsTheDocumentExample) {
  make_example_conf(conf);
  const Config config = ConfigDir::open(conf).read();
  ASSERT_EQ(config.pools.size(), 3u);

  const Pool& infra = config.pools.at("infra");
  EXPECT_EQ(infra.name, "infra");
  EXPECT_FALSE(infra.exclusive);
  EXPECT_THAT(list_names(infra), ElementsAre("0-2,8-10"));
  EXPECT_EQ(infra.lists.at("0-2,8-10").cpus, (CpuSet{0, 1, 2, 8, 9, 10}));
  EXPECT_EQ(infra.lists.at("0-2,8-10").tasks, (std::vector<pid_t>{3000, 3001, 3002}));

  const Pool& cp = config.pools.at("controlplane");
  EXPECT_FALSE(cp.exclusive);
  EXPECT_THAT(list_names(cp), ElementsAre("3,11"));
  EXPECT_EQ(cp.lists.at("3,11").cpus, (CpuSet{3, 11}));
  EXPECT_EQ(cp.lists.at("3,11").tasks, (std::vector<pid_t>{1000, 1001, 1002, 1003}));

  const Pool& dp = config.pools.at("dataplane");
  EXPECT_TRUE(dp.exclusive);
  EXPECT_THAT(list_names(dp), ElementsAre("4,12", "5,13", "6,14", "7,15"));
  for (int core = 4; core < 8; ++core) {
    const CpuList& list = dp.lists.at(std::to_string(core) + "," + std::to_string(core + 8));
    EXPECT_EQ(list.name, std::to_string(core) + "," + std::to_string(core + 8));
    EXPECT_EQ(list.cpus, (CpuSet{core, core + 8}));
    EXPECT_EQ(list.tasks, std::vector<pid_t>{2000 + core - 4});
  }
}

TEST_F(ConfigDirTest, KeepsListNameExactlyAsWritten) {
  make_example_conf(conf);
  write_file(path("pools/infra/0,1,2,8-10/tasks"), "");
  stdfs::remove_all(path("pools/infra/0-2,8-10"));
  const Pool infra = ConfigDir::open(conf).read_pool("infra");
  EXPECT_THAT(list_names(infra), ElementsAre("0,1,2,8-10"));
  EXPECT_EQ(infra.lists.at("0,1,2,8-10").cpus.to_string(), "0-2,8-10");
}

TEST_F(ConfigDirTest, ReadsExclusiveAndTasksWithTrailingNewline) {
  make_example_conf(conf);
  write_file(path("pools/dataplane/exclusive"), "1\n");
  write_file(path("pools/dataplane/4,12/tasks"), "2000\n");
  const Pool dp = ConfigDir::open(conf).read_pool("dataplane");
  EXPECT_TRUE(dp.exclusive);
  EXPECT_EQ(dp.lists.at("4,12").tasks, std::vector<pid_t>{2000});
}

TEST_F(ConfigDirTest, ReadsPoolWithoutLists) {
  write_file(path("pools/empty/exclusive"), "1");
  const Config config = ConfigDir::open(conf).read();
  EXPECT_TRUE(config.pools.at("empty").lists.empty());
}

// --- what is a configuration directory ---------------------------------------------------

TEST_F(ConfigDirTest, OpenRefusesADirectoryWithoutPools) {
  stdfs::create_directories(conf);
  auto t = thrown_by([&] { ConfigDir::open(conf); });
  EXPECT_EQ(t.message, "open config directory \"" + conf +
                           "\": is not a kcm configuration directory (no pools/): run kcm init");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST_F(ConfigDirTest, OpenRefusesPoolsThatIsNotADirectory) {
  write_file(path("pools"), "");
  EXPECT_EQ(thrown_by([&] { ConfigDir::open(conf); }).message,
            "open config directory \"" + conf +
                "\": is not a kcm configuration directory (its pools is not a directory)");
}

// A directory of the original tool has no lock file: the first writer makes it, private.
TEST_F(ConfigDirTest, FirstWriterCreatesTheLockFile0600) {
  make_example_conf(conf);
  const mode_t old_mask = ::umask(0);
  { DirLock held = ConfigDir::open(conf).lock(LockMode::kExclusive, {"kcm-test", "kcm-test: ", kLockWait}); }
  ::umask(old_mask);
  EXPECT_EQ(mode_of(path("lock")), 0600u);
}

TEST_F(ConfigDirTest, MissingExclusiveNamesTheFile) {
  make_example_conf(conf);
  stdfs::remove(path("pools/dataplane/exclusive"));
  EXPECT_EQ(read_error(),
            "open \"" + path("pools/dataplane/exclusive") + "\": No such file or directory");
}

TEST_F(ConfigDirTest, GarbageExclusiveNamesTheFileAndValue) {
  make_example_conf(conf);
  write_file(path("pools/dataplane/exclusive"), "yes");
  EXPECT_EQ(read_error(), "parse \"" + path("pools/dataplane/exclusive") +
                              "\": must be \"0\" or \"1\", not \"yes\"");
}

TEST_F(ConfigDirTest, EmptyExclusiveIsRefused) {
  make_example_conf(conf);
  write_file(path("pools/infra/exclusive"), "");
  EXPECT_EQ(read_error(),
            "parse \"" + path("pools/infra/exclusive") + "\": must be \"0\" or \"1\", not \"\"");
}

TEST_F(ConfigDirTest, GarbageTasksNamesTheFile) {
  make_example_conf(conf);
  write_file(path("pools/infra/0-2,8-10/tasks"), "abc");
  EXPECT_EQ(read_error(),
            "parse \"" + path("pools/infra/0-2,8-10/tasks") + "\": invalid PID \"abc\"");
}

TEST_F(ConfigDirTest, TasksWithEmptyElementNamesTheFile) {
  make_example_conf(conf);
  write_file(path("pools/dataplane/5,13/tasks"), "1,,2");
  EXPECT_EQ(read_error(), "parse \"" + path("pools/dataplane/5,13/tasks") + "\": invalid PID \"\"");
}

TEST_F(ConfigDirTest, NegativeTaskNamesTheFile) {
  make_example_conf(conf);
  write_file(path("pools/controlplane/3,11/tasks"), "-5");
  EXPECT_EQ(read_error(),
            "parse \"" + path("pools/controlplane/3,11/tasks") + "\": invalid PID \"-5\"");
}

TEST_F(ConfigDirTest, MissingTasksFileNamesIt) {
  make_example_conf(conf);
  stdfs::remove(path("pools/dataplane/6,14/tasks"));
  EXPECT_EQ(read_error(),
            "open \"" + path("pools/dataplane/6,14/tasks") + "\": No such file or directory");
}

TEST_F(ConfigDirTest, ListNameWithLetterNamesThePath) {
  make_example_conf(conf);
  write_file(path("pools/dataplane/4,a/tasks"), "");
  EXPECT_EQ(read_error(), "read \"" + path("pools/dataplane/4,a") +
                              "\": invalid CPU list name \"4,a\": only digits, ',' and '-' "
                              "are allowed");
}

TEST_F(ConfigDirTest, DescendingListNameNamesThePath) {
  make_example_conf(conf);
  write_file(path("pools/dataplane/3-1/tasks"), "");
  EXPECT_EQ(read_error(), "read \"" + path("pools/dataplane/3-1") +
                              "\": invalid CPU list \"3-1\": range 3-1 is descending");
}

TEST_F(ConfigDirTest, InvalidPoolDirectoryNameNamesThePath) {
  make_example_conf(conf);
  write_file(path("pools/Bad/exclusive"), "0");
  EXPECT_EQ(read_error(), "read \"" + path("pools/Bad") +
                              "\": invalid pool name \"Bad\": must match "
                              "[a-z0-9][a-z0-9_-]{0,62}");
}

TEST_F(ConfigDirTest, ReadPoolTakesOnlyAValidName) {
  make_example_conf(conf);
  write_file(tmp / "x/exclusive", "0");  // what pools/../x would reach
  // The text never becomes a name (names.h), so it never reaches the directory.
  auto t = thrown_by([&] { ConfigDir::open(conf).read_pool("../x"); });
  EXPECT_EQ(t.message, "invalid pool name \"../x\": must match [a-z0-9][a-z0-9_-]{0,62}");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST_F(ConfigDirTest, ReadPoolOfAbsentPoolSaysSo) {
  make_example_conf(conf);
  auto t = thrown_by([&] { ConfigDir::open(conf).read_pool("nope"); });
  EXPECT_EQ(t.message, "pool \"nope\" does not exist in \"" + conf + "\"");
  EXPECT_EQ(t.exit_code, kExitFailure);
}

TEST_F(ConfigDirTest, AbsentPoolIsANotFoundError) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  EXPECT_FALSE(if_found([&] { return dir.read_pool("nope"); }).has_value());
  EXPECT_FALSE(dir.has_pool("nope"));
  EXPECT_TRUE(dir.has_pool("infra"));
}

TEST_F(ConfigDirTest, AbsentFileInsideAPoolIsNotAnAbsentPool) {
  make_example_conf(conf);
  stdfs::remove(path("pools/infra/exclusive"));
  EXPECT_EQ(thrown_by([&] { ConfigDir::open(conf).read_pool("infra"); }).message,
            "open \"" + path("pools/infra/exclusive") + "\": No such file or directory");
}

TEST_F(ConfigDirTest, ReadPoolOfARegularFileSaysWhatItIs) {
  make_example_conf(conf);
  write_file(path("pools/notes"), "x");
  const ConfigDir dir = ConfigDir::open(conf);
  EXPECT_TRUE(dir.has_pool("notes"));
  try {
    dir.read_pool("notes");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "open \"" + path("pools/notes") + "\": is not a directory");
    EXPECT_FALSE(e.is_not_found());
  }
}

TEST_F(ConfigDirTest, ReadPoolReadsOnePool) {
  make_example_conf(conf);
  const Pool cp = ConfigDir::open(conf).read_pool("controlplane");
  EXPECT_EQ(cp.name, "controlplane");
  EXPECT_THAT(list_names(cp), ElementsAre("3,11"));
}

TEST_F(ConfigDirTest, SymlinkedPoolsDirectoryIsRefused) {
  make_example_conf(tmp / "elsewhere");
  stdfs::create_directories(conf);
  stdfs::create_directory_symlink(tmp / "elsewhere/pools", path("pools"));
  EXPECT_EQ(thrown_by([&] { ConfigDir::open(conf); }).message,
            "open config directory \"" + conf +
                "\": is not a kcm configuration directory (its pools is a symlink)");
}

TEST_F(ConfigDirTest, SymlinkedPoolDirectoryIsRefused) {
  make_example_conf(conf);
  stdfs::rename(path("pools/dataplane"), tmp / "dataplane");
  stdfs::create_directory_symlink(tmp / "dataplane", path("pools/dataplane"));
  EXPECT_EQ(read_error(),
            "read \"" + path("pools/dataplane") + "\": is a symlink, refusing to follow it");
  EXPECT_EQ(thrown_by([&] { ConfigDir::open(conf).read_pool("dataplane"); }).message,
            "open \"" + path("pools/dataplane") + "\": is a symlink, refusing to follow it");
}

TEST_F(ConfigDirTest, SymlinkedListDirectoryIsRefused) {
  make_example_conf(conf);
  stdfs::rename(path("pools/dataplane/4,12"), tmp / "4,12");
  stdfs::create_directory_symlink(tmp / "4,12", path("pools/dataplane/4,12"));
  EXPECT_EQ(read_error(),
            "read \"" + path("pools/dataplane/4,12") + "\": is a symlink, refusing to follow it");
}

TEST_F(ConfigDirTest, SymlinkedTasksFileIsRefused) {
  make_example_conf(conf);
  write_file(tmp / "tasks", "2000");
  stdfs::remove(path("pools/dataplane/4,12/tasks"));
  stdfs::create_symlink(tmp / "tasks", path("pools/dataplane/4,12/tasks"));
  EXPECT_EQ(read_error(), "open \"" + path("pools/dataplane/4,12/tasks") +
                              "\": is a symlink, refusing to follow it");
}

TEST_F(ConfigDirTest, SymlinkedExclusiveFileIsRefused) {
  make_example_conf(conf);
  write_file(tmp / "one", "1");
  stdfs::remove(path("pools/dataplane/exclusive"));
  stdfs::create_symlink(tmp / "one", path("pools/dataplane/exclusive"));
  EXPECT_EQ(read_error(), "open \"" + path("pools/dataplane/exclusive") +
                              "\": is a symlink, refusing to follow it");
}

TEST_F(ConfigDirTest, RegularFileInPoolsIsRefused) {
  make_example_conf(conf);
  write_file(path("pools/README"), "notes");
  EXPECT_EQ(read_error(),
            "read \"" + path("pools/README") + "\": unexpected entry: not a pool directory");
}

TEST_F(ConfigDirTest, RegularFileInPoolIsRefused) {
  make_example_conf(conf);
  write_file(path("pools/dataplane/notes"), "x");
  EXPECT_EQ(read_error(), "read \"" + path("pools/dataplane/notes") +
                              "\": unexpected entry: not a CPU list directory");
}

TEST_F(ConfigDirTest, DirectoryAsTasksFileIsRefused) {
  make_example_conf(conf);
  stdfs::remove(path("pools/dataplane/4,12/tasks"));
  stdfs::create_directory(path("pools/dataplane/4,12/tasks"));
  EXPECT_EQ(read_error(),
            "open \"" + path("pools/dataplane/4,12/tasks") + "\": is not a regular file");
}

TEST_F(ConfigDirTest, DotNamedTempFilesAreSkipped) {
  make_example_conf(conf);
  write_file(path("pools/.pools.tmp-77/x/exclusive"), "garbage");
  write_file(path("pools/.notes"), "garbage");
  write_file(path("pools/dataplane/.exclusive.tmp-12"), "garbage");
  write_file(path("pools/dataplane/.4,12.tmp-3/tasks"), "garbage");
  write_file(path("pools/dataplane/4,12/.tasks.tmp-9"), "garbage");
  const Config config = ConfigDir::open(conf).read();
  EXPECT_EQ(config.pools.size(), 3u);
  EXPECT_THAT(list_names(config.pools.at("dataplane")),
              ElementsAre("4,12", "5,13", "6,14", "7,15"));
}

// --- writing tasks ------------------------------------------------------------------------

TEST_F(ConfigDirTest, WriteTasksRoundTrips) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_tasks("dataplane", "5,13", {2001, 4242});
  EXPECT_EQ(read_text(path("pools/dataplane/5,13/tasks")), "2001,4242");
  EXPECT_EQ(dir.read_pool("dataplane").lists.at("5,13").tasks, (std::vector<pid_t>{2001, 4242}));
  dir.write_tasks("dataplane", "5,13", {});
  EXPECT_EQ(read_text(path("pools/dataplane/5,13/tasks")), "");
  EXPECT_TRUE(dir.read_pool("dataplane").lists.at("5,13").tasks.empty());
  EXPECT_EQ(names_in(path("pools/dataplane/5,13")), std::vector<std::string>{"tasks"});
}

TEST_F(ConfigDirTest, WriteTasksToAbsentListNamesIt) {
  make_example_conf(conf);
  auto t = thrown_by([&] { ConfigDir::open(conf).write_tasks("dataplane", "9,17", {1}); });
  EXPECT_EQ(t.message, "open \"" + path("pools/dataplane/9,17") + "\": No such file or directory");
  EXPECT_FALSE(stdfs::exists(path("pools/dataplane/9,17")));
}

TEST_F(ConfigDirTest, WriteTasksValidatesNames) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  const auto before = snapshot(conf);
  EXPECT_EQ(thrown_by([&] { dir.write_tasks("../x", "4,12", {1}); }).exit_code, kExitUsage);
  EXPECT_EQ(thrown_by([&] { dir.write_tasks("dataplane", "../../x", {1}); }).exit_code, kExitUsage);
  EXPECT_EQ(snapshot(conf), before);
}

TEST_F(ConfigDirTest, WriteTasksDoesNotFollowSymlinkedListDirectory) {
  make_example_conf(conf);
  write_file(tmp / "outside/tasks", "keep");
  stdfs::create_directory_symlink(tmp / "outside", path("pools/dataplane/9,17"));
  auto t = thrown_by([&] { ConfigDir::open(conf).write_tasks("dataplane", "9,17", {1}); });
  EXPECT_EQ(t.message,
            "open \"" + path("pools/dataplane/9,17") + "\": is a symlink, refusing to follow it");
  EXPECT_EQ(read_text(tmp / "outside/tasks"), "keep");
}

TEST_F(ConfigDirTest, WriteTasksDoesNotWriteThroughAHardLinkAtItsTempName) {
  make_example_conf(conf);
  const OutsideFile outside(path("pools/dataplane/4,12/.tasks.tmp-" + std::to_string(::getpid())));
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_tasks("dataplane", "4,12", {2000, 4242});
  outside.expect_untouched();
  EXPECT_EQ(links_of(path("pools/dataplane/4,12/tasks")), 1u);
  EXPECT_EQ(names_in(path("pools/dataplane/4,12")), std::vector<std::string>{"tasks"});
  EXPECT_EQ(dir.read_pool("dataplane").lists.at("4,12").tasks, (std::vector<pid_t>{2000, 4242}));
}

TEST_F(ConfigDirTest, PoolPathJoinsConfPoolsAndName) {
  make_example_conf(conf);
  EXPECT_EQ(ConfigDir::open(conf).pool_path("dataplane"), conf + "/pools/dataplane");
}

// --- owners ---------------------------------------------------------------------------------

TEST_F(ConfigDirTest, OwnerWriteReadRemove) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  const Owner owner = sample_owner("c0ffee");
  dir.write_owner(owner);
  EXPECT_EQ(read_text(path("owners/c0ffee.json")), owner_to_json(owner));
  EXPECT_EQ(dir.read_owner("c0ffee"), owner);
  dir.remove_owner("c0ffee");
  EXPECT_FALSE(stdfs::exists(path("owners/c0ffee.json")));
  EXPECT_EQ(dir.read_owner("c0ffee"), std::nullopt);
  EXPECT_EQ(names_in(path("owners")), std::vector<std::string>{});
}

TEST_F(ConfigDirTest, WriteOwnerReplacesTheRecord) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  Owner owner = sample_owner("c1");
  dir.write_owner(owner);
  owner.pid = 2001;
  owner.cpu_lists = {"5,13", "6,14"};
  dir.write_owner(owner);
  EXPECT_EQ(dir.read_owner("c1"), owner);
  EXPECT_EQ(names_in(path("owners")), std::vector<std::string>{"c1.json"});
}

TEST_F(ConfigDirTest, ReadOwnersReturnsEveryRecordByFileName) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_owner(sample_owner("b"));
  dir.write_owner(sample_owner("a"));
  dir.write_owner(sample_owner("isolate-42"));
  std::vector<std::string> ids;
  for (const Owner& o : dir.read_owners()) ids.push_back(o.owner);
  EXPECT_THAT(ids, ElementsAre("a", "b", "isolate-42"));
}

TEST_F(ConfigDirTest, OwnerIdWithSlashUsesSha256FileName) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  const Owner owner = sample_owner("a/b");
  dir.write_owner(owner);
  // "sha256+" and sha256("a/b"), as `printf a/b | sha256sum` prints it.
  const std::string file =
      "sha256+c14cddc033f64b9dea80ea675cf280a015e672516090a5626781153dc68fea11.json";
  EXPECT_EQ(names_in(path("owners")), std::vector<std::string>{file});
  EXPECT_FALSE(stdfs::exists(path("owners/a")));
  EXPECT_EQ(dir.read_owner("a/b"), owner);
  dir.remove_owner("a/b");
  EXPECT_TRUE(names_in(path("owners")).empty());
}

TEST_F(ConfigDirTest, TraversalOwnerIdStaysInsideOwners) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_owner(sample_owner("../../escape"));
  EXPECT_EQ(names_in(path("owners")),
            std::vector<std::string>{"sha256+" + sha256_hex("../../escape") + ".json"});
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"conf"});
}

TEST_F(ConfigDirTest, RecordUnderAnotherIdsNameIsSkippedAndDescribed) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_owner(sample_owner("c1"));
  dir.write_owner(sample_owner("c3"));
  stdfs::rename(path("owners/c1.json"), path("owners/c2.json"));
  EXPECT_EQ(dir.read_owner("c2")->owner, "c1");
  std::vector<std::string> misnamed;
  const std::vector<Owner> owners = dir.read_owners(&misnamed);
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(owners[0].owner, "c3");
  EXPECT_EQ(misnamed, std::vector<std::string>{
                          "Owner record \"" + path("owners/c2.json") +
                          "\" records owner \"c1\", whose record is \"c1.json\": kcm does not "
                          "use it (move it there or remove it)"});
}

TEST_F(ConfigDirTest, DirectoryWithoutOwnersReadsAsNoOwners) {
  make_example_conf(conf);  // the original tool's format: no owners/
  const ConfigDir dir = ConfigDir::open(conf);
  EXPECT_EQ(dir.read_owner("c1"), std::nullopt);
  EXPECT_TRUE(dir.read_owners().empty());
  EXPECT_NO_THROW(dir.remove_owner("c1"));
  EXPECT_FALSE(stdfs::exists(path("owners")));
}

TEST_F(ConfigDirTest, WriteOwnerCreatesOwnersDirectory) {
  make_example_conf(conf);
  ConfigDir::open(conf).write_owner(sample_owner("c1"));
  EXPECT_TRUE(stdfs::is_directory(path("owners")));
}

// Records are kcm's private bookkeeping; an owners/ made before that is closed too.
TEST_F(ConfigDirTest, WriteOwnerKeepsOwnersPrivate) {
  make_example_conf(conf);
  const mode_t old_mask = ::umask(0);
  ConfigDir::open(conf).write_owner(sample_owner("c1"));
  EXPECT_EQ(mode_of(path("owners")), 0700u);
  ASSERT_EQ(::chmod(path("owners").c_str(), 0755), 0);
  ConfigDir::open(conf).write_owner(sample_owner("c2"));
  ::umask(old_mask);
  EXPECT_EQ(mode_of(path("owners")), 0700u);
}

TEST_F(ConfigDirTest, WriteOwnerDoesNotWriteThroughAHardLinkAtItsTempName) {
  make_example_conf(conf);
  stdfs::create_directories(path("owners"));
  const OutsideFile outside(path("owners/.c1.json.tmp-" + std::to_string(::getpid())));
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_owner(sample_owner("c1"));
  outside.expect_untouched();
  EXPECT_EQ(links_of(path("owners/c1.json")), 1u);
  EXPECT_EQ(names_in(path("owners")), std::vector<std::string>{"c1.json"});
  EXPECT_EQ(dir.read_owner("c1"), sample_owner("c1"));
}

TEST_F(ConfigDirTest, SymlinkedOwnerFileIsRefused) {
  make_example_conf(conf);
  write_file(tmp / "fake.json", owner_to_json(sample_owner("c1")));
  stdfs::create_directories(path("owners"));
  stdfs::create_symlink(tmp / "fake.json", path("owners/c1.json"));
  const ConfigDir dir = ConfigDir::open(conf);
  const std::string expected =
      "open \"" + path("owners/c1.json") + "\": is a symlink, refusing to follow it";
  EXPECT_EQ(thrown_by([&] { dir.read_owner("c1"); }).message, expected);
  EXPECT_EQ(thrown_by([&] { dir.read_owners(); }).message, expected);
}

TEST_F(ConfigDirTest, SymlinkedOwnersDirectoryIsRefused) {
  make_example_conf(conf);
  write_file(tmp / "elsewhere/c1.json", owner_to_json(sample_owner("c1")));
  stdfs::create_directory_symlink(tmp / "elsewhere", path("owners"));
  const ConfigDir dir = ConfigDir::open(conf);
  const std::string expected =
      "open \"" + path("owners") + "\": is a symlink, refusing to follow it";
  EXPECT_EQ(thrown_by([&] { dir.read_owners(); }).message, expected);
  EXPECT_EQ(thrown_by([&] { dir.read_owner("c1"); }).message, expected);
  EXPECT_EQ(thrown_by([&] { dir.write_owner(sample_owner("c2")); }).message, expected);
  EXPECT_FALSE(stdfs::exists(tmp / "elsewhere/c2.json"));
}

TEST_F(ConfigDirTest, UnexpectedFileInOwnersIsRefused) {
  make_example_conf(conf);
  write_file(path("owners/notes.txt"), "x");
  EXPECT_EQ(
      thrown_by([&] { ConfigDir::open(conf).read_owners(); }).message,
      "read \"" + path("owners/notes.txt") + "\": unexpected entry: not an owner record (*.json)");
}

TEST_F(ConfigDirTest, MalformedOwnerRecordNamesItsFile) {
  make_example_conf(conf);
  write_file(path("owners/c1.json"), "{not json");
  EXPECT_THAT(thrown_by([&] { ConfigDir::open(conf).read_owners(); }).message,
              StartsWith("parse \"" + path("owners/c1.json") + "\": "));
  EXPECT_THAT(thrown_by([&] { ConfigDir::open(conf).read_owner("c1"); }).message,
              StartsWith("parse \"" + path("owners/c1.json") + "\": "));
}

TEST_F(ConfigDirTest, DotNamedOwnerTempFilesAreSkipped) {
  make_example_conf(conf);
  const ConfigDir dir = ConfigDir::open(conf);
  dir.write_owner(sample_owner("c1"));
  write_file(path("owners/.c2.json.tmp-99"), "{torn");
  ASSERT_EQ(dir.read_owners().size(), 1u);
  EXPECT_EQ(dir.read_owners()[0].owner, "c1");
}

// --- create (kcm init) --------------------------------------------------------------------

Config small_layout() {
  Config layout;
  Pool dp{"dataplane", true, {}};
  dp.lists.emplace("4,12", CpuList{"4,12", CpuSet{4, 12}, {}});
  dp.lists.emplace("5,13", CpuList{"5,13", CpuSet{5, 13}, {}});
  Pool infra{"infra", false, {}};
  infra.lists.emplace("0-3,8-11", CpuList{"0-3,8-11", CpuSet::parse("0-3,8-11"), {}});
  layout.pools.emplace("dataplane", dp);
  layout.pools.emplace("infra", infra);
  return layout;
}

TEST_F(ConfigDirTest, CreateMakesPoolsAndOwners) {
  ConfigDir::create(conf, small_layout(), kInitLock);
  EXPECT_EQ(names_in(conf), (std::vector<std::string>{"lock", "owners", "pools"}));
  EXPECT_TRUE(names_in(path("owners")).empty());
  EXPECT_EQ(read_text(path("pools/dataplane/exclusive")), "1");
  EXPECT_EQ(read_text(path("pools/infra/exclusive")), "0");
  EXPECT_EQ(read_text(path("pools/dataplane/4,12/tasks")), "");
  EXPECT_EQ(read_text(path("pools/infra/0-3,8-11/tasks")), "");
  const Config config = ConfigDir::open(conf).read();
  EXPECT_THAT(list_names(config.pools.at("dataplane")), ElementsAre("4,12", "5,13"));
  EXPECT_THAT(list_names(config.pools.at("infra")), ElementsAre("0-3,8-11"));
  EXPECT_TRUE(config.pools.at("dataplane").exclusive);
}

TEST_F(ConfigDirTest, CreateLeavesNoTempFiles) {
  ConfigDir::create(conf, small_layout(), kInitLock);
  for (const auto& e : stdfs::recursive_directory_iterator(conf)) {
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

TEST_F(ConfigDirTest, CreateWorksOnExistingEmptyDirectory) {
  stdfs::create_directories(conf);
  ConfigDir::create(conf, small_layout(), kInitLock);
  EXPECT_EQ(names_in(conf), (std::vector<std::string>{"lock", "owners", "pools"}));
}

TEST_F(ConfigDirTest, CreateAcceptsDirectoryHoldingOnlyTheLock) {
  write_file(path("lock"), "123 kcm describe\n");
  ConfigDir::create(conf, small_layout(), kInitLock);
  EXPECT_EQ(names_in(conf), (std::vector<std::string>{"lock", "owners", "pools"}));
}

TEST_F(ConfigDirTest, CreateRefusesNonEmptyDirectoryAndLeavesItUnchanged) {
  write_file(path("notes"), "mine");
  write_file(path("sub/data"), "also mine");
  const auto before = snapshot(conf);
  auto t = thrown_by([&] { ConfigDir::create(conf, small_layout(), kInitLock); });
  EXPECT_EQ(t.message,
            "initialize config directory \"" + conf + "\": is not empty (it holds \"notes\")");
  EXPECT_EQ(snapshot(conf), before);
}

TEST_F(ConfigDirTest, CreateRefusesAnInitializedDirectory) {
  ConfigDir::create(conf, small_layout(), kInitLock);
  const auto before = snapshot(conf);
  auto t = thrown_by([&] { ConfigDir::create(conf, small_layout(), kInitLock); });
  EXPECT_EQ(t.message,
            "initialize config directory \"" + conf + "\": is not empty (it holds \"owners\")");
  EXPECT_EQ(snapshot(conf), before);
}

TEST_F(ConfigDirTest, CreateGivesTheDocumentedModesWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{077}}) {
    const std::string dir = tmp / ("conf-" + std::to_string(mask));
    const mode_t old_mask = ::umask(mask);
    ConfigDir::create(dir, small_layout(), kInitLock);
    ::umask(old_mask);
    EXPECT_EQ(mode_of(dir), 0755u) << mask;
    EXPECT_EQ(mode_of(dir + "/lock"), 0600u) << mask;
    EXPECT_EQ(mode_of(dir + "/owners"), 0700u) << mask;
    EXPECT_EQ(mode_of(dir + "/pools"), 0755u) << mask;
    EXPECT_EQ(mode_of(dir + "/pools/dataplane"), 0755u) << mask;
    EXPECT_EQ(mode_of(dir + "/pools/dataplane/exclusive"), 0644u) << mask;
    EXPECT_EQ(mode_of(dir + "/pools/dataplane/4,12"), 0755u) << mask;
    EXPECT_EQ(mode_of(dir + "/pools/dataplane/4,12/tasks"), 0644u) << mask;
  }
}

TEST_F(ConfigDirTest, CreateRefusesALockFileKcmDidNotWrite) {
  write_file(path("lock"), "my notes\n");
  const auto before = snapshot(conf);
  EXPECT_EQ(thrown_by([&] { ConfigDir::create(conf, small_layout(), kInitLock); }).message,
            "initialize config directory \"" + conf + "\": is not empty (it holds \"lock\")");
  EXPECT_EQ(snapshot(conf), before);
}

TEST_F(ConfigDirTest, CreateRefusesAHardLinkedLockFile) {
  stdfs::create_directories(conf);
  const OutsideFile outside(path("lock"));
  ASSERT_EQ(::truncate(outside.path().c_str(), 0), 0);  // empty, as init leaves a lock
  const auto before = snapshot(conf);
  EXPECT_EQ(thrown_by([&] { ConfigDir::create(conf, small_layout(), kInitLock); }).message,
            "initialize config directory \"" + conf + "\": is not empty (it holds \"lock\")");
  EXPECT_EQ(snapshot(conf), before);
  EXPECT_EQ(read_text(outside.path()), "");
  EXPECT_EQ(mode_of(outside.path()), 0600u);
}

TEST_F(ConfigDirTest, CreateRefusesATempNameThatIsNoDirectory) {
  write_file(path(".pools.tmp-12"), "mine");
  const auto before = snapshot(conf);
  EXPECT_EQ(
      thrown_by([&] { ConfigDir::create(conf, small_layout(), kInitLock); }).message,
      "initialize config directory \"" + conf + "\": is not empty (it holds \".pools.tmp-12\")");
  EXPECT_EQ(snapshot(conf), before);
}

TEST_F(ConfigDirTest, CreateRemovesStaleTempTreeOfInterruptedInit) {
  write_file(path(".pools.tmp-99999/dataplane/exclusive"), "1");
  write_file(path(".pools.tmp-99999/dataplane/4,12/tasks"), "");
  ConfigDir::create(conf, small_layout(), kInitLock);
  EXPECT_EQ(names_in(conf), (std::vector<std::string>{"lock", "owners", "pools"}));
  EXPECT_THAT(list_names(ConfigDir::open(conf).read().pools.at("dataplane")),
              ElementsAre("4,12", "5,13"));
}

TEST_F(ConfigDirTest, CreateNeedsTheParentDirectory) {
  const std::string deep = tmp / "missing/conf";
  auto t = thrown_by([&] { ConfigDir::create(deep, small_layout(), kInitLock); });
  EXPECT_EQ(t.message, "create config directory \"" + deep + "\": No such file or directory");
  EXPECT_FALSE(stdfs::exists(tmp / "missing"));
}

TEST_F(ConfigDirTest, CreateWritesTasksOfTheLayout) {
  Config layout = small_layout();
  layout.pools.at("infra").lists.at("0-3,8-11").tasks = {1, 2};
  ConfigDir::create(conf, layout, kInitLock);
  EXPECT_EQ(read_text(path("pools/infra/0-3,8-11/tasks")), "1,2");
}

// --- records of a boot (boot.h) ------------------------------------------------------

class ConfigDirBootTest : public ConfigDirTest {
 protected:
  ConfigDirBootTest() {
    make_example_conf(conf);
    write_file(proc / "sys/kernel/random/boot_id", "0f8c7b5e-1111-4a5b-9c3d-2e6f7a8b9c0d\n");
  }
  LockOptions options() const { return {"kcm-test", "kcm-test: ", kLockWait, proc.path()}; }
  TempDir proc;
};

TEST_F(ConfigDirBootTest, AnUnmarkedDirectoryIsMarkedByItsFirstWriteOnly) {
  const ConfigDir dir = ConfigDir::open(conf);
  {
    DirLock held = dir.lock_for_writing(options());
    dir.read();  // a writer that reads and then refuses changes nothing
  }
  EXPECT_FALSE(std::filesystem::exists(path("boot")));
  EXPECT_FALSE(dir.records_of_earlier_boot(proc.path()));
  DirLock held = dir.lock_for_writing(options());
  dir.write_tasks(PoolName::parse("dataplane"), CpuListName::parse("4,12"), {2000, 2100});
  EXPECT_EQ(read_text(path("boot")), "0f8c7b5e-1111-4a5b-9c3d-2e6f7a8b9c0d\n");
  EXPECT_EQ(read_text(path("pools/infra/0-2,8-10/tasks")), "3000,3001,3002");  // adopted
}

TEST_F(ConfigDirBootTest, RecordsOfAnEarlierBootAreForgottenWhenTheLockIsTaken) {
  write_file(path("boot"), "7d1e2f3a-2222-4b6c-8d9e-0a1b2c3d4e5f\n");
  write_file(path("pools/dataplane/5,13/tasks"), std::string(8, '\0'));
  const ConfigDir dir = ConfigDir::open(conf);
  EXPECT_TRUE(dir.records_of_earlier_boot(proc.path()));
  EXPECT_THROW(dir.read(), Error);  // what a power loss left does not parse
  const Config unread = dir.read(ConfigDir::Tasks::kNone);
  EXPECT_TRUE(unread.pools.at(PoolName::parse("infra")).lists.begin()->second.tasks.empty());
  DirLock held = dir.lock_for_writing(options());
  EXPECT_FALSE(dir.records_of_earlier_boot(proc.path()));
  for (const auto& [name, pool] : dir.read().pools) {
    for (const auto& [list, cpus] : pool.lists) EXPECT_TRUE(cpus.tasks.empty()) << list;
  }
}

TEST_F(ConfigDirBootTest, WithoutABootIdNothingIsKnownOfBoots) {
  write_file(path("boot"), "7d1e2f3a-2222-4b6c-8d9e-0a1b2c3d4e5f\n");
  const ConfigDir dir = ConfigDir::open(conf);
  const TempDir bare_proc;
  EXPECT_FALSE(dir.records_of_earlier_boot(bare_proc.path()));
  DirLock held = dir.lock_for_writing({"kcm-test", "kcm-test: ", kLockWait, bare_proc.path()});
  EXPECT_EQ(read_text(path("pools/dataplane/4,12/tasks")), "2000");
}

}  // namespace
}  // namespace kcm
