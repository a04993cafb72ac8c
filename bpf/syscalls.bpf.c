/* syscalltop: exact per-syscall and per-process counters on raw_syscalls:sys_enter/sys_exit.
 *
 * Options arrive as -D flags from tui/sources/bcc_source.py (filters, sampling, the
 * never-erring sigreturn ids). Kernel structs are never read: only BPF helpers, the
 * tracepoint arguments and the user register frame (the ptrace ABI, stable by contract).
 */
#include "syscalls.h"

/* BCC's RAW_TRACEPOINT_PROBE, minus BCC's attaching it at load: user space attaches each
 * program (on_sys_enter, on_sched_switch, on_sys_exit, on_cgroup_attach_task) only once the
 * perf buffer is open and the argument layouts are filled, so no call in between is lost or
 * read half-described. */
#define RAW_TRACEPOINT_PROGRAM(event) int on_##event(struct bpf_raw_tracepoint_args *ctx)

#ifndef SAMPLE_EVERY
#define SAMPLE_EVERY 0
#endif
#ifndef NR_RT_SIGRETURN
#define NR_RT_SIGRETURN -1
#endif
#ifndef COMPAT_NR_SIGRETURN
#define COMPAT_NR_SIGRETURN -1
#endif
#ifndef COMPAT_NR_RT_SIGRETURN
#define COMPAT_NR_RT_SIGRETURN -1
#endif
#ifndef NR_EXIT
#define NR_EXIT -1
#define NR_EXIT_GROUP -1
#define COMPAT_NR_EXIT -1
#define COMPAT_NR_EXIT_GROUP -1
#endif
#ifndef NR_EXECVE
#define NR_EXECVE -1
#define NR_EXECVEAT -1
#define COMPAT_NR_EXECVE -1
#define COMPAT_NR_EXECVEAT -1
#endif

BPF_PERCPU_ARRAY(syscall_stats, struct syscall_stats, SLOT_COUNT);
BPF_PERCPU_ARRAY(loss_counts, u64, LOSS_SLOTS);
/* Allocated on first use: sized for process churn (each short-lived process leaves ~20
 * entries until user space takes them). Preallocated, its deletes under churn would cost a
 * third (0.4 against 1.2 us each: 2% of a CPU at 1,500 processes a second), but it would
 * hold 26 MB of kernel memory on every machine; allocated, it holds only what is in use. */
BPF_F_TABLE("hash", struct proc_key, struct proc_stats, proc_stats, PROC_MAP_ENTRIES,
            BPF_F_NO_PREALLOC);
BPF_HASH(errno_counts, struct errno_key, u64, ERRNO_MAP_ENTRIES);
BPF_PERCPU_ARRAY(cpu_states, struct cpu_state, 1);
BPF_HASH(inflight, u32, struct enter_state, INFLIGHT_ENTRIES);
/* How many times a task changed cgroups (cgroup_attach_task): entries made before a move
 * read their process's cgroup again at their next call. Moves are rare; calls are not. */
BPF_ARRAY(cgroup_moves, u64, 1);
/* Processes that ended, by any way (exit_group, a signal, the last thread's exit): when to
 * take gone processes out of the per-process map between reads. exit_group alone misses
 * signal deaths, and the counts tier never sees it (it has no sys_enter). */
BPF_PERCPU_ARRAY(process_exits, u64, 1);
/* Processes whose last thread left (the tracepoint's group_dead, on kernels that pass it), by
 * tgid: a read of the per-process map made after reading these holds their final counts, so
 * user space takes them from that one read with no /proc look-up, zombies too. What does not
 * fit is counted in ended_dropped, and user space asks /proc then. */
BPF_F_TABLE("hash", u32, u8, ended_processes, ENDED_ENTRIES, BPF_F_NO_PREALLOC);
BPF_ARRAY(ended_dropped, u64, 1);
/* Advanced by user space at each read: the epoch of the interval maxima. */
BPF_ARRAY(read_epoch, u64, 1);
/* Threads that left, ever: a pair cached before one left may name a pid now reused. */
BPF_ARRAY(task_ends, u64, 1);
/* Set by user space once it can run flush_cached_calls on every CPU: pairs are cached
 * (cpu_state.pending) only then, since only that makes them reach proc_stats by a read. */
BPF_ARRAY(cache_on, u64, 1);
#ifndef COUNTS_ONLY
BPF_PERCPU_ARRAY(pending_latencies, struct pending_latency, 1);
#endif
#ifndef COUNTS_ONLY
BPF_PERCPU_ARRAY(fine_hists, struct fine_hist, HIST_ROWS);
/* Row + 1 of each syscall's fine histogram (0: none yet), handed out at its first timed call
 * from the hist_rows_used counter (64-bit: the atomics that return a value need it). */
BPF_ARRAY(hist_row_of, u64, SLOT_COUNT);
BPF_ARRAY(hist_rows_used, u64, 1);
/* Threads seen leaving a call they entered before the programs were attached (no entry
 * state): user space drops them from the threads it found blocked at start, at its next
 * read, instead of reading each one's /proc/.../syscall at every read. */
BPF_F_TABLE("hash", u32, u8, unseen_exits, UNSEEN_EXIT_ENTRIES, BPF_F_NO_PREALLOC);
#endif
/* Never written: the all-zero value a new per-process entry starts from (too big for the stack). */
BPF_ARRAY(zero_proc_stats, struct proc_stats, 1);
#ifndef SLOW_NS
#define SLOW_NS 0
#endif
/* Calls go to user space when sampled (1 in SAMPLE_EVERY) or captured (failed, slow, or new
 * for their process), the captures within a per-CPU token bucket per syscall. */
#if SAMPLE_EVERY > 0 || defined(CAPTURE_NS_PER_TOKEN)
#define SEND_EVENTS 1
BPF_PERCPU_ARRAY(sample_scratch, struct sample_event, 1);
BPF_PERF_OUTPUT(samples);
BPF_ARRAY(arg_layout, struct arg_layout, SLOT_COUNT);
#endif
#ifdef CAPTURE_NS_PER_TOKEN
BPF_PERCPU_ARRAY(capture_budgets, struct capture_budget, SLOT_COUNT);
#endif
#if SAMPLE_EVERY > 0
BPF_PERCPU_ARRAY(sample_budget, struct event_budget, 1);
#endif

/* Offsets in the x86_64 user register frame (struct pt_regs == user_regs_struct order). */
#define REGS_WORDS 21
#define REG_BP 4
#define REG_BX 5
#define REG_R10 7
#define REG_R9 8
#define REG_R8 9
#define REG_CX 11
#define REG_DX 12
#define REG_SI 13
#define REG_DI 14
#define REG_ORIG_AX 15
#define REG_CS 17
/* __USER32_CS: the code segment of a task running 32-bit code. */
#define USER32_CS 0x23

static __always_inline void count_loss(u32 index)
{
    u64 *loss = loss_counts.lookup(&index);
    if (loss)
        (*loss)++;
}

static __always_inline u32 is_compat_task(u64 regs_addr)
{
#if defined(__x86_64__) && defined(TRACK_COMPAT)
    u64 cs = 0;
    bpf_probe_read_kernel(&cs, sizeof(cs), (void *)(regs_addr + REG_CS * 8));
    return (cs & 0xffff) == USER32_CS;
#else
    return 0;
#endif
}

static __always_inline u32 slot_of(s64 nr, u32 compat)
{
    if (nr < 0 || nr >= SLOTS_PER_ABI)
        return INVALID_SLOT;
    return compat ? COMPAT_SLOT_BASE + (u32)nr : (u32)nr;
}

/* Filters known at entry and at exit alike, so paired and unpaired calls agree. */
static __always_inline int passes_filter(u64 pid_tgid, u32 slot)
{
#ifdef FILTER_EXCLUDE_TGID
    /* syscalltop's own calls (reading maps, drawing) are not what anyone is looking for. */
    if ((u32)(pid_tgid >> 32) == FILTER_EXCLUDE_TGID)
        return 0;
#endif
#ifdef FILTER_TGID_EXPR
    u32 tgid = pid_tgid >> 32;
    if (!(FILTER_TGID_EXPR))
        return 0;
#endif
#ifdef FILTER_TID_EXPR
    u32 tid = (u32)pid_tgid;
    if (!(FILTER_TID_EXPR))
        return 0;
#endif
#ifdef FILTER_SLOT_EXPR
    if (!(FILTER_SLOT_EXPR))
        return 0;
#endif
#ifdef FILTER_UID
    if ((u32)bpf_get_current_uid_gid() != FILTER_UID)
        return 0;
#endif
#ifdef FILTER_CGROUP_ID
    if (bpf_get_current_ancestor_cgroup_id(FILTER_CGROUP_LEVEL) != FILTER_CGROUP_ID)
        return 0;
#endif
#ifdef FILTER_COMM_LO
    u64 comm_words[2] = {};
    bpf_get_current_comm(comm_words, sizeof(comm_words));
    if (comm_words[0] != FILTER_COMM_LO || comm_words[1] != FILTER_COMM_HI)
        return 0;
#endif
    return 1;
}

/* floor(log2(value)), 0 for 0 and 1. */
static __always_inline u32 log2_of(u64 value)
{
    u32 bucket = 0;
    if (value >> 32) { value >>= 32; bucket += 32; }
    if (value >> 16) { value >>= 16; bucket += 16; }
    if (value >> 8) { value >>= 8; bucket += 8; }
    if (value >> 4) { value >>= 4; bucket += 4; }
    if (value >> 2) { value >>= 2; bucket += 2; }
    if (value >> 1) { bucket += 1; }
    return bucket;
}

/* The fine bucket of a duration (tui/model/histogram.py fine_index says the same). */
static __always_inline u32 fine_bucket(u64 value, u32 log2)
{
    if (value < (1 << FINE_SUB_BITS))
        return (u32)value;
    u32 sub;
    if (log2 > FINE_LOG2_TOP) {
        log2 = FINE_LOG2_TOP;
        sub = (1 << FINE_SUB_BITS) - 1;
    } else {
        sub = (value >> (log2 - FINE_SUB_BITS)) & ((1 << FINE_SUB_BITS) - 1);
    }
    u32 index = ((log2 - FINE_SUB_BITS + 1) << FINE_SUB_BITS) + sub;
    return index < FINE_BUCKETS ? index : FINE_BUCKETS - 1;
}

static __always_inline u64 current_epoch(void)
{
    u32 zero = 0;
    u64 *epoch = read_epoch.lookup(&zero);
    return epoch ? *epoch : 0;
}

static __always_inline void count_fine(u32 slot, u32 index)
{
#ifndef COUNTS_ONLY
    u64 *row_of = hist_row_of.lookup(&slot);
    if (!row_of)
        return;
    u64 row_plus_one = *row_of;
    if (!row_plus_one) {
        u32 zero = 0;
        u64 *used = hist_rows_used.lookup(&zero);
        if (!used || *used >= HIST_ROWS)
            return; /* every row taken: this syscall has counts, no latency histogram */
        u64 claimed = __sync_fetch_and_add(used, 1);
        if (claimed >= HIST_ROWS)
            return;
        /* Two CPUs may claim for one syscall at once: the first installed wins, the other
         * row stays unused (rows are few, the race rare). */
        u64 installed = __sync_val_compare_and_swap(row_of, 0, claimed + 1);
        row_plus_one = installed ? installed : claimed + 1;
    }
    u32 row = (u32)(row_plus_one - 1);
    struct fine_hist *hist = fine_hists.lookup(&row);
    if (hist && index < FINE_BUCKETS)
        hist->buckets[index]++;
#endif
}

static __always_inline int never_errs(u32 slot)
{
    /* sigreturn "returns" the interrupted context's rax, often -EINTR: not its own error. */
    return slot == NR_RT_SIGRETURN || slot == COMPAT_SLOT_BASE + COMPAT_NR_SIGRETURN ||
           slot == COMPAT_SLOT_BASE + COMPAT_NR_RT_SIGRETURN;
}

static __always_inline int never_returns(u32 slot)
{
    return slot == NR_EXIT || slot == NR_EXIT_GROUP || slot == COMPAT_SLOT_BASE + COMPAT_NR_EXIT ||
           slot == COMPAT_SLOT_BASE + COMPAT_NR_EXIT_GROUP;
}

static __always_inline int is_exec(u32 slot)
{
    return slot == NR_EXECVE || slot == NR_EXECVEAT || slot == COMPAT_SLOT_BASE + COMPAT_NR_EXECVE ||
           slot == COMPAT_SLOT_BASE + COMPAT_NR_EXECVEAT;
}

/* Returns 1 when this call made the (syscall, errno) entry: the first such failure. */
static __always_inline int count_errno(struct syscall_stats *stats, u32 slot, u32 errno_value)
{
    u64 cache = stats->errno_cache;
    if (cache >> ERRNO_CACHE_SHIFT == errno_value) {
        stats->errno_cache = cache + 1; /* this CPU's line: no atomic needed */
        return 0;
    }
    struct errno_key key = {.slot = slot, .errno_value = errno_value};
    if (!cache) {
        /* The syscall's first failure on this CPU: its errno is counted in the line from now
         * on. An entry with count 0 says whether any CPU had seen the pair before. */
        stats->errno_cache = ((u64)errno_value << ERRNO_CACHE_SHIFT) | 1;
        u64 zero = 0;
        return errno_counts.insert(&key, &zero) == 0;
    }
    u64 *count = errno_counts.lookup(&key);
    if (count) {
        __sync_fetch_and_add(count, 1);
        return 0;
    }
    u64 one = 1;
    if (errno_counts.insert(&key, &one) == 0)
        return 1;
    /* Lost the race to another CPU inserting the same key, or the map is full. */
    count = errno_counts.lookup(&key);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        count_loss(LOSS_ERRNO_MAP_FULL);
    return 0;
}

/* Raise a max since start and the max of read epoch `epoch` (reset when the epoch moved on)
 * to `duration_ns`: a syscall's line, a process's entry, or a cached pair's pending. */
static __always_inline void note_maxima(u64 *max_ns, u64 *interval_max_ns, u64 *max_epoch,
                                        u64 duration_ns, u64 epoch)
{
    if (duration_ns > *max_ns)
        *max_ns = duration_ns;
    if (*max_epoch != epoch) {
        *max_epoch = epoch;
        *interval_max_ns = 0;
    }
    if (duration_ns > *interval_max_ns)
        *interval_max_ns = duration_ns;
}

static __always_inline void count_losses(u32 index, u64 calls)
{
    u64 *loss = loss_counts.lookup(&index);
    if (loss)
        __sync_fetch_and_add(loss, calls);
}

#ifndef COUNTS_ONLY
/* Hand the cached pair's pending latency to its entry (to none: dropped, its entry did not
 * fit), each field by an exchange as in flush_pending. */
static __always_inline void flush_latency(struct proc_stats *stats)
{
    u32 zero = 0;
    struct pending_latency *late = pending_latencies.lookup(&zero);
    if (!late)
        return;
    u64 sum_ns = __sync_lock_test_and_set(&late->sum_ns, 0);
    if (stats && sum_ns)
        __sync_fetch_and_add(&stats->latency_sum_ns, sum_ns);
    u64 touched = __sync_lock_test_and_set(&late->touched, 0);
    #pragma unroll
    for (int bucket = 0; bucket < HIST_BUCKETS; bucket++) {
        if (touched & (1ULL << bucket)) {
            u64 calls = __sync_lock_test_and_set(&late->hist[bucket], 0);
            if (stats && calls)
                __sync_fetch_and_add(&stats->latency_hist[bucket], calls);
        }
    }
    u64 max_ns = __sync_lock_test_and_set(&late->max_ns, 0);
    u64 epoch = late->max_epoch;
    u64 interval_max_ns = __sync_lock_test_and_set(&late->interval_max_ns, 0);
    if (!stats)
        return;
    if (max_ns > stats->latency_max_ns)
        stats->latency_max_ns = max_ns;
    /* Shared by the process's CPUs, as in count_process. An older epoch's maximum is
     * dropped: user space flushes before it advances the epoch, so that one was read. */
    if (epoch > stats->max_epoch) {
        stats->max_epoch = epoch;
        stats->interval_max_ns = interval_max_ns;
    } else if (epoch == stats->max_epoch && interval_max_ns > stats->interval_max_ns) {
        stats->interval_max_ns = interval_max_ns;
    }
}
#endif

/* Add the cached pair's pending calls to its proc_stats entry. Atomic against
 * flush_cached_calls, which user space may run on this CPU in an interrupt in the middle
 * of a call's program: the exchange hands each pending call to exactly one of the two.
 * A call adds its latency before its count, so latency with no pending count is only that
 * of a call interrupted between the two, taken at the next flush with its count. */
static __always_inline void flush_pending(struct cpu_state *cpu)
{
    u64 pending = __sync_lock_test_and_set(&cpu->pending, 0);
    if (!pending)
        return;
    struct proc_key key = {.tgid = cpu->cached_tgid, .slot = cpu->cached_slot};
    struct proc_stats *stats = proc_stats.lookup(&key);
    if (stats) {
        __sync_fetch_and_add(&stats->count, pending & 0xffffffff);
        if (pending >> 32)
            __sync_fetch_and_add(&stats->errors, pending >> 32);
    } else {
        /* Its entry is gone (a pair is cached only with one): the calls are dropped. */
        count_losses(LOSS_PROC_MAP_FULL, pending & 0xffffffff);
    }
#ifndef COUNTS_ONLY
    flush_latency(stats);
#endif
}

/* Returns 1 when this call made the (process, syscall) pair's entry (its first call), -1
 * when the pair has no entry (the map is full: the call is counted as dropped). `moves` is
 * the cgroup_moves count now (its low 32 bits are kept in the entry). */
static __always_inline int count_process(u32 tgid, u32 slot, int failed, int timed,
                                         u64 duration_ns, u32 bucket, u64 epoch, u64 moves)
{
    struct proc_key key = {.tgid = tgid, .slot = slot};
    struct proc_stats *stats = proc_stats.lookup(&key);
    int new_pair = 0;
    u32 moves_now = (u32)moves;
    if (stats && stats->moves_seen != moves_now) {
        /* Some task moved since this entry last looked: maybe this one. */
        stats->moves_seen = moves_now;
        stats->cgroup_id = bpf_get_current_cgroup_id();
    }
    if (!stats) {
        u32 zero = 0;
        struct proc_stats *fresh = zero_proc_stats.lookup(&zero);
        if (!fresh)
            return -1;
        new_pair = proc_stats.insert(&key, fresh) == 0;
        stats = proc_stats.lookup(&key);
        if (!stats) {
            count_loss(LOSS_PROC_MAP_FULL);
            return -1;
        }
        /* Racing CPUs of one process write the same values here. */
        stats->uid = (u32)bpf_get_current_uid_gid();
        bpf_get_current_comm(stats->comm, sizeof(stats->comm));
        stats->cgroup_id = bpf_get_current_cgroup_id();
        stats->moves_seen = moves_now;
    }
    __sync_fetch_and_add(&stats->count, 1);
    if (failed)
        __sync_fetch_and_add(&stats->errors, 1);
    if (timed) {
        __sync_fetch_and_add(&stats->latency_sum_ns, duration_ns);
        __sync_fetch_and_add(&stats->latency_hist[bucket], 1);
        /* Shared by the process's CPUs: a race may lose a max to a concurrent reset. */
        note_maxima(&stats->latency_max_ns, &stats->interval_max_ns, &stats->max_epoch,
                    duration_ns, epoch);
    }
    return new_pair;
}

/* count_process with a one-pair write-back cache per CPU: a hash lookup is about 40 ns of
 * a call here (of 70 in the counts tier), and a hot loop makes one call after another of
 * one pair. A pair made twice in a row on a CPU is cached there; its next calls on that CPU
 * add to cpu_state.pending (and, timed, to pending_latencies), and go to the entry when
 * another pair is cached, or when user space runs flush_cached_calls on the CPU before
 * each read (and, timed, before it advances the read epoch). A call of any other pair is
 * counted in its entry as before: a workload that changes syscall every call pays a few
 * compares. A thread's end anywhere (its pid may come back as another process's) or a
 * cgroup move ends the use of every cache: the next calls go to their entries, which
 * makes a pid's new process its own entries and reads its cgroup anew. */
static __always_inline int count_process_cached(struct cpu_state *cpu, u32 tgid, u32 slot,
                                                int failed, int timed, u64 duration_ns,
                                                u32 bucket, u64 epoch)
{
    u32 zero = 0;
    u64 *ends = task_ends.lookup(&zero);
    u64 *moves = cgroup_moves.lookup(&zero);
    u64 ends_now = ends ? *ends : 0;
    u64 moves_now = moves ? *moves : 0;
#ifdef COUNTS_ONLY
    int cacheable = 1;
#else
    /* An untimed call (no entry seen, or exit_group at entry) goes to its entry. */
    int cacheable = timed;
    struct pending_latency *late = pending_latencies.lookup(&zero);
    if (!late)
        cacheable = 0;
#endif
    if (cacheable && cpu->cached_tgid == tgid && cpu->cached_slot == slot &&
        cpu->cached_ends == ends_now && cpu->cached_moves == moves_now &&
        (u32)cpu->pending < PENDING_LIMIT) {
#ifndef COUNTS_ONLY
        if (late && bucket < HIST_BUCKETS) {
            __sync_fetch_and_add(&late->sum_ns, duration_ns);
            __sync_fetch_and_add(&late->hist[bucket], 1);
            __sync_fetch_and_or(&late->touched, 1ULL << bucket); /* after the add: see flush */
            note_maxima(&late->max_ns, &late->interval_max_ns, &late->max_epoch, duration_ns,
                        epoch);
        }
#endif
        __sync_fetch_and_add(&cpu->pending, 1 | ((u64)(failed != 0) << 32));
        return 0;
    }
    int new_pair = count_process(tgid, slot, failed, timed, duration_ns, bucket, epoch,
                                 moves_now);
    if (new_pair < 0)
        return 0; /* no entry to hand calls to: not cached */
    if (!cacheable)
        return new_pair;
    if (cpu->last_tgid == tgid && cpu->last_slot == slot) {
        u64 *on = cache_on.lookup(&zero);
        if (on && *on) {
            flush_pending(cpu); /* before the key changes: pending is 0 while it does */
            cpu->cached_tgid = tgid;
            cpu->cached_slot = slot;
            cpu->cached_ends = ends_now;
            cpu->cached_moves = moves_now;
        }
    }
    cpu->last_tgid = tgid;
    cpu->last_slot = slot;
    return new_pair;
}

#ifdef CAPTURE_NS_PER_TOKEN
/* Spend a token of the syscall's per-CPU bucket (refilled at the capture rate, holding one
 * second's worth); count the candidate as sent or suppressed either way. */
static __always_inline int capture_allowed(u32 slot, u64 now_ns, int failed, int free_ride)
{
    struct capture_budget *budget = capture_budgets.lookup(&slot);
    if (!budget)
        return 0;
    int allowed = free_ride;
    if (!allowed) {
        u64 credit = budget->last_ns ? budget->credit_ns + (now_ns - budget->last_ns)
                                     : CAPTURE_BURST_NS;
        if (credit > CAPTURE_BURST_NS)
            credit = CAPTURE_BURST_NS;
        budget->last_ns = now_ns;
        if (credit >= CAPTURE_NS_PER_TOKEN) {
            credit -= CAPTURE_NS_PER_TOKEN;
            allowed = 1;
        }
        budget->credit_ns = credit;
    }
    u32 index = (failed ? CAPTURE_FAILED_SENT : CAPTURE_OTHER_SENT) + (allowed ? 0 : 1);
    if (index < CAPTURE_COUNTERS)
        budget->counts[index]++;
    return allowed;
}
#endif

#if SAMPLE_EVERY > 0
/* A token bucket of SAMPLE_EVENTS_PER_SECOND per CPU (one second's burst): the reader in
 * user space drains events one by one, and a producer faster than it would keep it draining
 * forever. What the budget refuses is counted as lost. */
static __always_inline int sample_allowed(u64 now_ns)
{
    u32 zero = 0;
    struct event_budget *budget = sample_budget.lookup(&zero);
    if (!budget)
        return 0;
    u64 cost = 1000000000ULL / SAMPLE_EVENTS_PER_SECOND;
    u64 credit = budget->last_ns ? budget->credit_ns + (now_ns - budget->last_ns) : 1000000000ULL;
    if (credit > 1000000000ULL)
        credit = 1000000000ULL;
    budget->last_ns = now_ns;
    if (credit < cost) {
        budget->credit_ns = credit;
        count_loss(LOSS_SAMPLES_THROTTLED);
        return 0;
    }
    budget->credit_ns = credit - cost;
    return 1;
}
#endif

#ifdef SEND_EVENTS
/* The user-memory helpers under names of our own: BCC spends about 22 ms of every compile
 * on each call written as bpf_probe_read_user or bpf_probe_read_user_str (measured: eight
 * such calls in a function nothing calls add 0.18 s; the same helper by another name adds
 * nothing). Both are in every kernel this runs on (5.5+; the README asks for 5.11+). */
static long (*read_user)(void *dst, u32 size, const void *unsafe_ptr) =
    (void *)BPF_FUNC_probe_read_user;
static long (*read_user_str)(void *dst, u32 size, const void *unsafe_ptr) =
    (void *)BPF_FUNC_probe_read_user_str;

/* Read what the arguments point at, as the prototypes say (user space filled arg_layout):
 * the string arguments in order, then the argv array's first strings, then one socket address.
 * Which argument is argv and which the address comes with the layout: each is read in one
 * place, not once per argument (that made the compile 0.2 s and sys_exit 2,400
 * instructions longer). */
static __always_inline u32 read_pointed(struct sample_event *event, u32 slot, s64 ret)
{
    u32 payload = 0;
    struct arg_layout *layout = arg_layout.lookup(&slot);
    if (!layout)
        return 0;
    u32 next = 0;
    #pragma unroll
    for (int i = 0; i < SYSCALL_ARGS; i++) {
        if (layout->kinds[i] == ARG_STRING && next < CAPTURE_STRINGS) {
            long n = read_user_str(event->strings[next], CAPTURE_STRING_LEN,
                                   (void *)event->args[i]);
            event->string_lens[next] = n > 0 ? n : 0;
            next++;
            payload = 1;
        }
    }
    u32 argv_arg = layout->argv_arg;
    u32 addr_arg = layout->addr_arg;
    u8 addr_kind = addr_arg < SYSCALL_ARGS ? layout->kinds[addr_arg] : 0;
    /* An address the kernel fills in is only there when the call succeeded. */
    if (addr_kind == ARG_SOCKADDR_OUT && ret < 0)
        addr_arg = SYSCALL_ARGS;
    if (argv_arg < SYSCALL_ARGS) {
        u64 argv = event->args[argv_arg];
        #pragma unroll
        for (int j = 0; j < ARGV_CAPTURED; j++) {
            u64 pointer = 0;
            if (next >= CAPTURE_STRINGS)
                break;
            read_user(&pointer, sizeof(pointer), (void *)(argv + 8 * j));
            if (!pointer)
                break;
            long n = read_user_str(event->strings[next], CAPTURE_STRING_LEN,
                                   (void *)pointer);
            event->string_lens[next] = n > 0 ? n : 0;
            next++;
            payload = 1;
        }
        u64 more = 0;
        read_user(&more, sizeof(more), (void *)(argv + 8 * ARGV_CAPTURED));
        if (more)
            event->payload_flags |= PAYLOAD_ARGV_MORE;
    }
    if (addr_arg < SYSCALL_ARGS - 1) {
        u32 len = 0;
        if (addr_kind == ARG_SOCKADDR_IN)
            len = (u32)event->args[addr_arg + 1];
        else
            read_user(&len, sizeof(len), (void *)event->args[addr_arg + 1]);
        if (len > CAPTURE_ADDR_LEN)
            len = CAPTURE_ADDR_LEN;
        /* Constant sizes keep the verifier simple: the whole buffer, or (near the end of
         * a mapping) an AF_INET6 or AF_INET address; user space keeps `len` bytes. */
        void *from = (void *)event->args[addr_arg];
        if (from && len > 0 &&
            (read_user(event->addr, CAPTURE_ADDR_LEN, from) == 0 ||
             read_user(event->addr, 28, from) == 0 ||
             read_user(event->addr, 16, from) == 0)) {
            event->addr_len = len;
            payload = 1;
        }
    }
    return payload;
}

static __always_inline void send_event(struct bpf_raw_tracepoint_args *ctx, u32 tgid,
                                        u32 slot, s64 ret, int timed, u64 now_ns,
                                        u64 duration_ns, u32 reasons)
{
    u32 zero = 0;
    struct sample_event *event = sample_scratch.lookup(&zero);
    if (!event)
        return;
    u64 regs[REGS_WORDS] = {};
    bpf_probe_read_kernel(regs, sizeof(regs), (void *)ctx->args[0]);
    if (slot >= COMPAT_SLOT_BASE && slot < INVALID_SLOT) {
        event->args[0] = regs[REG_BX];
        event->args[1] = regs[REG_CX];
        event->args[2] = regs[REG_DX];
        event->args[3] = regs[REG_SI];
        event->args[4] = regs[REG_DI];
        event->args[5] = regs[REG_BP];
    } else {
        event->args[0] = regs[REG_DI];
        event->args[1] = regs[REG_SI];
        event->args[2] = regs[REG_DX];
        event->args[3] = regs[REG_R10];
        event->args[4] = regs[REG_R8];
        event->args[5] = regs[REG_R9];
    }
    event->exit_ns = now_ns;
    event->duration_ns = duration_ns;
    event->cgroup_id = bpf_get_current_cgroup_id();
    event->ret = ret;
    event->tgid = tgid;
    event->tid = (u32)bpf_get_current_pid_tgid();
    event->uid = (u32)bpf_get_current_uid_gid();
    event->cpu = bpf_get_smp_processor_id();
    event->slot = slot;
    event->timed = timed;
    event->reasons = reasons;
    bpf_get_current_comm(event->comm, sizeof(event->comm));
    #pragma unroll
    for (int i = 0; i < CAPTURE_STRINGS; i++)
        event->string_lens[i] = 0;
    event->addr_len = 0;
    event->payload_flags = 0;
    /* Only what was read goes out: most calls point at nothing worth reading. exit and
     * exit_group (counted at entry, now_ns 0) point at nothing: read_pointed is inlined
     * into sys_exit alone. */
    if (now_ns && read_pointed(event, slot, ret))
        samples.perf_submit(ctx, event, sizeof(*event));
    else
        samples.perf_submit(ctx, event, offsetof(struct sample_event, strings));
}
#endif

static __always_inline void account(struct bpf_raw_tracepoint_args *ctx,
                                    struct cpu_state *cpu, u32 tgid, u32 slot, s64 ret,
                                    int timed, u64 now_ns, u64 duration_ns)
{
    int failed = ret < 0 && ret >= -MAX_ERRNO_VALUE && !never_errs(slot);
#ifdef FAILURES_ONLY
    if (!failed)
        return;
#endif
#ifdef FILTER_ERRNO
    if (!failed || -ret != FILTER_ERRNO)
        return;
#endif
    u32 log2 = timed ? log2_of(duration_ns) : 0;
    u32 bucket = log2 < HIST_BUCKETS ? log2 : HIST_BUCKETS - 1;
    u64 epoch = timed ? current_epoch() : 0;
    struct syscall_stats *stats = syscall_stats.lookup(&slot);
    if (!stats)
        return;
    stats->count++;
    if (failed)
        stats->errors++;
    if (timed) {
        stats->latency_sum_ns += duration_ns;
        note_maxima(&stats->latency_max_ns, &stats->interval_max_ns, &stats->max_epoch,
                    duration_ns, epoch);
        count_fine(slot, fine_bucket(duration_ns, log2));
    }
    int new_errno = failed ? count_errno(stats, slot, (u32)(-ret)) : 0;
    int new_pair = count_process_cached(cpu, tgid, slot, failed, timed, duration_ns, bucket, epoch);
#ifdef SEND_EVENTS
    u32 reasons = 0;
#if SAMPLE_EVERY > 0
    if (++stats->since_sample >= SAMPLE_EVERY) {
        stats->since_sample = 0;
        if (sample_allowed(now_ns ? now_ns : bpf_ktime_get_ns()))
            reasons = REASON_SAMPLED;
    }
#endif
#ifdef CAPTURE_NS_PER_TOKEN
    /* exit and exit_group are counted at entry (now_ns 0) and have nothing to explain. */
    u32 wanted = now_ns ? ((failed ? REASON_FAILED : 0) | (new_pair ? REASON_NEW : 0) |
                           (new_errno ? REASON_NEW_ERRNO : 0))
                        : 0;
#if SLOW_NS > 0
    if (timed && duration_ns >= SLOW_NS)
        wanted |= REASON_SLOW;
#endif
    /* A sampled call costs the budget nothing more; nor does a syscall's first failure with
     * an errno (bounded by the errno map: once per (syscall, errno) ever), so a second way of
     * failing is explained even while the first keeps the bucket empty. */
    if (wanted && capture_allowed(slot, now_ns, failed, reasons != 0 || new_errno))
        reasons |= wanted;
#endif
    if (reasons)
        send_event(ctx, tgid, slot, ret, timed, now_ns, duration_ns, reasons);
#endif
}

/* Whether the thread runs 32-bit code: read from its register frame once, then cached per CPU
 * for as long as the same thread keeps making calls there. */
static __always_inline u32 task_abi_compat(struct cpu_state *cpu, u32 tid, u64 regs_addr)
{
    if (cpu->abi_tid != tid || !cpu->abi_flags) {
        cpu->abi_tid = tid;
        cpu->abi_flags = STATE_ABI_KNOWN | (is_compat_task(regs_addr) ? STATE_COMPAT : 0);
    }
    return cpu->abi_flags & STATE_COMPAT;
}

/* A task changed cgroups: entries read their process's cgroup again at their next call. */
RAW_TRACEPOINT_PROGRAM(cgroup_attach_task)
{
    u32 zero = 0;
    u64 *moves = cgroup_moves.lookup(&zero);
    if (moves)
        __sync_fetch_and_add(moves, 1);
    return 0;
}

/* A thread leaving (runs as it, once a thread, not per syscall): it takes any call state
 * with it, and a thread-group leader counts as a process that ended. */
RAW_TRACEPOINT_PROGRAM(sched_process_exit)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 ends_index = 0;
    u64 *ends = task_ends.lookup(&ends_index);
    if (ends)
        __sync_fetch_and_add(ends, 1);
#ifndef COUNTS_ONLY
    u32 tid = (u32)pid_tgid;
    inflight.delete(&tid);
    u32 cpu_index = 0;
    struct cpu_state *cpu = cpu_states.lookup(&cpu_index);
    if (cpu && (cpu->flags & STATE_ENTERED))
        cpu->flags = 0; /* its own (no switch since), or its last switch would park it */
#endif
    if ((u32)pid_tgid != (u32)(pid_tgid >> 32))
        return 0; /* another thread: its process may live on */
    u32 zero = 0;
    u64 *exits = process_exits.lookup(&zero);
    if (exits)
        (*exits)++;
    return 0;
}

/* The last thread of a process leaving: attached beside on_sched_process_exit where the
 * tracepoint passes group_dead (args[1]); the kernel refuses the attach where it does not. */
int on_sched_process_end(struct bpf_raw_tracepoint_args *ctx)
{
    if (!ctx->args[1])
        return 0; /* threads live on: the process's entries are not final */
    u32 tgid = bpf_get_current_pid_tgid() >> 32;
    u8 ended = 1;
    if (ended_processes.update(&tgid, &ended) != 0) {
        u32 zero = 0;
        u64 *dropped = ended_dropped.lookup(&zero);
        if (dropped)
            __sync_fetch_and_add(dropped, 1);
    }
    return 0;
}

/* Run by user space on each CPU (BPF_PROG_TEST_RUN on that CPU) before it reads proc_stats:
 * the calls cached there reach their entries, so a read holds every call made before it. */
int flush_cached_calls(struct bpf_raw_tracepoint_args *ctx)
{
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (cpu)
        flush_pending(cpu);
    return 0;
}

#ifdef COUNTS_ONLY
/* The counts tier: one program, at exit, with no clock read. Exact counts, errors and errnos
 * per syscall and per process; no latency, no in-flight list, no events. exit and
 * exit_group never reach sys_exit, so they are not counted (as with syscount). */
static __always_inline int count_exit(u64 regs_addr, s64 nr, s64 ret)
{
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu)
        return 0;
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tid = (u32)pid_tgid;
    u32 compat = task_abi_compat(cpu, tid, regs_addr);
    u32 slot = slot_of(nr, compat);
    if (is_exec(slot))
        cpu->abi_flags = 0; /* exec may switch the ABI: read it afresh next time */
    if (!passes_filter(pid_tgid, slot))
        return 0;
    account(0, cpu, pid_tgid >> 32, slot, ret, 0, 0, 0);
    return 0;
}

/* Where the kernel has BTF, user space loads this one instead, as a BTF-typed raw tracepoint
 * (tp_btf; BCC 0.26 cannot load that kind itself): args[0] is then a typed struct pt_regs
 * pointer, and orig_ax one plain load rather than a helper call (measured: ~30 ns a call). */
int btf_sys_exit(u64 *args)
{
    s64 nr = *(s64 *)((char *)args[0] + REG_ORIG_AX * 8);
    return count_exit(args[0], nr, (s64)args[1]);
}

RAW_TRACEPOINT_PROGRAM(sys_exit)
{
    s64 nr = -1;
    bpf_probe_read_kernel(&nr, sizeof(nr), (void *)(ctx->args[0] + REG_ORIG_AX * 8));
    return count_exit(ctx->args[0], nr, (s64)ctx->args[1]);
}
#else
RAW_TRACEPOINT_PROGRAM(sys_enter)
{
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu)
        return 0;
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tid = (u32)pid_tgid;
    u32 compat = task_abi_compat(cpu, tid, ctx->args[0]);
    u32 slot = slot_of((s64)ctx->args[1], compat);
    cpu->tid = tid;
    cpu->tgid = pid_tgid >> 32;
    cpu->slot = slot;
    if (!passes_filter(pid_tgid, slot)) {
        cpu->flags = STATE_ENTERED;
        return 0;
    }
    if (never_returns(slot)) {
        /* exit and exit_group have no sys_exit: count them here, untimed, and keep no state. */
        cpu->flags = 0;
        account(ctx, cpu, cpu->tgid, slot, 0, 0, 0, 0);
        return 0;
    }
    cpu->flags = STATE_ENTERED | STATE_TRACKED;
    cpu->enter_ns = bpf_ktime_get_ns();
    return 0;
}

/* A thread leaving the CPU inside a tracked syscall parks its entry state in `inflight`. */
RAW_TRACEPOINT_PROGRAM(sched_switch)
{
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu || !(cpu->flags & STATE_ENTERED))
        return 0;
    u32 flags = cpu->flags;
    cpu->flags = 0;
    u32 tid = cpu->tid;
    if (tid != (u32)bpf_get_current_pid_tgid()) {
        count_loss(LOSS_STALE_CPU_STATE);
        return 0;
    }
    if (!(flags & STATE_TRACKED))
        return 0; /* its exit finds no state and is filtered out again there */
    struct enter_state state = {
        .enter_ns = cpu->enter_ns, .tgid = cpu->tgid, .slot = cpu->slot, .flags = flags};
    if (inflight.update(&tid, &state) != 0)
        count_loss(LOSS_INFLIGHT_MAP_FULL);
    return 0;
}

RAW_TRACEPOINT_PROGRAM(sys_exit)
{
    u64 now_ns = bpf_ktime_get_ns();
    s64 ret = (s64)ctx->args[1];
    u32 zero = 0;
    struct cpu_state *cpu = cpu_states.lookup(&zero);
    if (!cpu)
        return 0;
    u32 flags, tid, tgid, slot;
    u64 enter_ns = now_ns;
    int timed = 1;
    /* One account() below for the three ways a call ends: inlined once, not three times
     * (that made the compile 0.15 s and the program 1,900 instructions longer). */
    if (cpu->flags & STATE_ENTERED) {
        /* No switch since an entry on this CPU (sched_switch, attached first, would have
         * moved its state): the thread leaving now is the one that entered. Not asking for
         * the thread saves a helper call (about 10 ns a call on a host with return thunks). */
        flags = cpu->flags;
        cpu->flags = 0;
        tid = cpu->tid;
        tgid = cpu->tgid;
        slot = cpu->slot;
        enter_ns = cpu->enter_ns;
    } else {
        u64 pid_tgid = bpf_get_current_pid_tgid();
        tid = (u32)pid_tgid;
        /* The call slept or was preempted: its state went to `inflight` at the switch. */
        struct enter_state *parked = inflight.lookup(&tid);
        if (parked) {
            flags = parked->flags;
            tgid = parked->tgid;
            slot = parked->slot;
            enter_ns = parked->enter_ns;
            inflight.delete(&tid);
        } else {
            /* No entry seen: a call rejected before sys_enter (seccomp, ptrace) or one that
             * was already running when we attached. Count it untimed under orig_ax's id. */
            u8 returned = 1;
            unseen_exits.update(&tid, &returned);
            s64 nr = -1;
            bpf_probe_read_kernel(&nr, sizeof(nr), (void *)(ctx->args[0] + REG_ORIG_AX * 8));
            slot = slot_of(nr, is_compat_task(ctx->args[0]));
            if (!passes_filter(pid_tgid, slot))
                return 0;
            count_loss(LOSS_UNTIMED_EXITS);
            flags = STATE_TRACKED;
            tgid = pid_tgid >> 32;
            timed = 0;
        }
    }
    /* exec may switch the ABI, so the next entry reads it afresh. */
    if (is_exec(slot) && cpu->abi_tid == tid)
        cpu->abi_flags = 0;
    if (flags & STATE_TRACKED)
        account(ctx, cpu, tgid, slot, ret, timed, now_ns, now_ns - enter_ns);
    return 0;
}
#endif
