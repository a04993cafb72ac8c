/* Shared sizes and record layouts for syscalltop's BPF program.
 *
 * tui/sources/bcc_source.py parses the #define lines below, so each one is a plain
 * "#define NAME <integer>" and the Python mirror of every struct stays in one place.
 */
#ifndef SYSCALLTOP_SYSCALLS_H
#define SYSCALLTOP_SYSCALLS_H

/* Slot layout of the per-syscall arrays: native ids, then compat (i386) ids, then one
 * slot for ids outside both tables (seccomp-rejected -1, garbage from hostile code). */
#define SLOTS_PER_ABI 512
#define COMPAT_SLOT_BASE 512
#define INVALID_SLOT 1024
#define SLOT_COUNT 1025

/* log2 latency buckets in ns: bucket b holds [2^b, 2^(b+1)), the last one is open-ended. */
#define HIST_BUCKETS 32
/* Log-linear ("fine") buckets, per syscall: below 8 ns one per ns, then each log2 range cut
 * in 2^FINE_SUB_BITS equal parts, up to the range starting at 2^FINE_LOG2_TOP (open-ended). */
#define FINE_SUB_BITS 3
#define FINE_LOG2_TOP 35
#define FINE_BUCKETS 272
/* Fine histograms are rows of a per-CPU array that user space hands to syscalls as they are
 * first seen (--hist-rows; the program text may define it first). */
#ifndef HIST_ROWS
#define HIST_ROWS 128
#endif

/* Default sizes; the program text may define them first (--proc-map-size). */
#ifndef PROC_MAP_ENTRIES
#define PROC_MAP_ENTRIES 65536
#endif
/* Threads that left their CPU inside a syscall (blocked or preempted), by tid. */
#define INFLIGHT_ENTRIES 32768
#define UNSEEN_EXIT_ENTRIES 4096
/* Processes whose last thread left, until user space takes their entries (each read). */
#define ENDED_ENTRIES 32768
#define ERRNO_MAP_ENTRIES 8192
#define MAX_ERRNO_VALUE 4095
/* syscall_stats.errno_cache: errno << 52 | count (MAX_ERRNO_VALUE fits the 12 bits above). */
#define ERRNO_CACHE_SHIFT 52

/* Indexes of the per-CPU loss counters: every way of losing data is counted. */
#define LOSS_PROC_MAP_FULL 0
#define LOSS_ERRNO_MAP_FULL 1
#define LOSS_UNTIMED_EXITS 2
#define LOSS_INFLIGHT_MAP_FULL 3
#define LOSS_STALE_CPU_STATE 4
/* Samples over the per-CPU event budget: user space could not keep up with more. */
#define LOSS_SAMPLES_THROTTLED 5
#define LOSS_SLOTS 6
/* Sampled events a CPU may send a second (at --sample 1 a hot loop would send millions). */
#define SAMPLE_EVENTS_PER_SECOND 50000

/* cpu_state.flags and enter_state.flags */
#define STATE_ENTERED 1
#define STATE_TRACKED 2
/* cpu_state.abi_flags: the ABI of thread abi_tid, read from its register frame once. */
#define STATE_ABI_KNOWN 4
#define STATE_COMPAT 8

#define COMM_LEN 16
#define SYSCALL_ARGS 6

struct syscall_stats {
    u64 count;
    u64 errors;
    u64 latency_sum_ns;
    u64 latency_max_ns;
    /* Calls of this syscall on this CPU since its last sample: sampling is 1-in-N per
     * syscall, so rare calls are sampled too, and the counter shares the hot cache line. */
    u64 since_sample;
    /* The largest duration of the read epoch max_epoch: user space advances the epoch at
     * each read, so this is the interval's own max, not the max since start. */
    u64 interval_max_ns;
    u64 max_epoch;
    /* The first errno this syscall failed with on this CPU, in the bits from
     * ERRNO_CACHE_SHIFT up, and how many of its failures since had that errno, in the bits
     * below: the usual case, one syscall failing one way again and again, is counted here
     * with no hash and no atomic. Other errnos go to errno_counts; user space adds the two.
     * One cache line a syscall a CPU: the histogram is the fine row (user space folds it
     * into log2 buckets). */
    u64 errno_cache;
};

struct fine_hist {
    u64 buckets[FINE_BUCKETS];
};

struct proc_key {
    u32 tgid;
    u32 slot;
};

struct proc_stats {
    u64 count;
    u64 errors;
    u64 latency_sum_ns;
    u64 latency_max_ns;
    u32 uid;
    /* The cgroup_moves count this entry's cgroup_id was read at (its low 32 bits). */
    u32 moves_seen;
    char comm[COMM_LEN];
    /* The cgroup v2 the process was in at its last call: read at the pair's first call, and
     * again at its next call after any task on the machine changed cgroups. */
    u64 cgroup_id;
    u64 interval_max_ns; /* as in syscall_stats */
    u64 max_epoch;
    u64 latency_hist[HIST_BUCKETS];
};

struct errno_key {
    u32 slot;
    u32 errno_value;
};

/* The call in progress on a CPU. A call that neither sleeps nor is preempted enters and exits
 * on one CPU with no context switch in between, so its state lives here (cheap); sched_switch
 * moves the state of a thread leaving the CPU mid-call into the inflight hash, which user
 * space reads to list the threads stuck inside a syscall right now. */
struct cpu_state {
    u64 enter_ns;
    u32 tid;
    u32 tgid;
    u32 slot;
    u32 flags;
    u32 abi_tid;
    u32 abi_flags;
    /* The counts tier's one-pair cache: the (process, syscall) of this CPU's last call, and
     * the pair whose calls since it was cached wait in `pending` (count in the low 32 bits,
     * errors in the high) to be added to its proc_stats entry. */
    u32 last_tgid;
    u32 last_slot;
    u32 cached_tgid;
    u32 cached_slot;
    u64 cached_ends;
    u64 cached_moves;
    u64 pending;
};
/* A pair's pending count stays below this (then it is added to its entry): 32 bits each. */
#define PENDING_LIMIT 0x80000000

/* The full tier's cached pair's pending latency (one per CPU, beside cpu_state.pending):
 * added to its proc_stats entry with the pending calls. `touched` has a bit per histogram
 * bucket holding calls, so a flush looks at those only. */
struct pending_latency {
    u64 sum_ns;
    u64 max_ns;
    u64 interval_max_ns;
    u64 max_epoch;
    u64 touched;
    u64 hist[HIST_BUCKETS];
};

struct enter_state {
    u64 enter_ns;
    u32 tgid;
    u32 slot;
    u32 flags;
    u32 reserved;
};

/* Why a call was sent to user space (sample_event.reasons). */
#define REASON_SAMPLED 1
#define REASON_FAILED 2
#define REASON_SLOW 4
#define REASON_NEW 8
/* The first failure of a syscall with this errno since start (its own capture). */
#define REASON_NEW_ERRNO 16

/* What each argument of a syscall points at (arg_layout.kinds), filled by user space from
 * the syscall prototypes: strings and socket addresses are read at sys_exit. */
#define ARG_PLAIN 0
#define ARG_STRING 1
#define ARG_SOCKADDR_IN 2
#define ARG_SOCKADDR_OUT 3
#define ARG_ARGV 4

#define CAPTURE_STRINGS 4
#define CAPTURE_STRING_LEN 256
#define CAPTURE_ADDR_LEN 128
#define ARGV_CAPTURED 3
#define PAYLOAD_ARGV_MORE 1

/* Per-CPU token bucket and counts of one syscall's capture candidates: a call that failed,
 * was slow, or was the first of its (process, syscall) pair. */
#define CAPTURE_FAILED_SENT 0
#define CAPTURE_FAILED_SUPPRESSED 1
#define CAPTURE_OTHER_SENT 2
#define CAPTURE_OTHER_SUPPRESSED 3
#define CAPTURE_COUNTERS 4

struct capture_budget {
    u64 credit_ns;
    u64 last_ns;
    u64 counts[CAPTURE_COUNTERS];
};

struct event_budget {
    u64 credit_ns;
    u64 last_ns;
};

struct arg_layout {
    u8 kinds[SYSCALL_ARGS];
    u8 argv_arg; /* the argument that is argv, SYSCALL_ARGS for none */
    u8 addr_arg; /* the argument that is a socket address (its length follows it), or none */
};

struct sample_event {
    u64 exit_ns;
    u64 duration_ns;
    u64 cgroup_id;
    s64 ret;
    u64 args[SYSCALL_ARGS];
    u32 tgid;
    u32 tid;
    u32 uid;
    u32 cpu;
    u32 slot;
    u32 timed;
    char comm[COMM_LEN];
    u32 reasons;
    u16 string_lens[CAPTURE_STRINGS];
    u16 addr_len;
    u16 payload_flags; /* PAYLOAD_ARGV_MORE: argv went on past what was read */
    char strings[CAPTURE_STRINGS][CAPTURE_STRING_LEN];
    u8 addr[CAPTURE_ADDR_LEN];
};

#endif
