/* The steering program: load through libxdp, fill its maps, read its counters.
 * See xdp_prog.h. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "mpq/io/netaddr.h"
#include "mpq/io/xdp_prog.h"
#include "mpq_steer.skel.h"

#define PROG_NAME MPQ_STEER_STR(MPQ_STEER_PROG)

struct mpq_xdp_prog {
	struct mpq_steer_bpf *skel;
	struct xdp_program *xprog; /* libxdp's handle while attached */
	mpq_xdp_prog_config cfg;
	mpq_xdp_prog_info info;
	bool loaded;
	int ncpus;
	uint64_t *percpu; /* one counter's values, one per possible CPU */
	int lock_fd;	  /* held while we own the interface's program; -1 */
	mpq_oserr err;
};

#define LOCK_DIR "/run/mpquic"

/*
 * Who owns the program on an interface: a process that attaches takes an
 * exclusive lock named by its network namespace and the ifindex, and holds it
 * until it detaches (or dies, when the kernel drops it). A program we find
 * with the lock free was left by a crash and may be replaced; one whose lock
 * is held belongs to a running process and is never touched.
 */
static int take_lock(mpq_xdp_prog *p, int ifindex)
{
	struct stat ns;
	char path[128];
	if (stat("/proc/self/ns/net", &ns) != 0)
		return mpq_oserr_set(&p->err, "stat netns", errno);
	if (mkdir(LOCK_DIR, 0700) != 0 && errno != EEXIST)
		return mpq_oserr_set(&p->err, "mkdir " LOCK_DIR, errno);
	snprintf(path, sizeof(path), LOCK_DIR "/xdp-%llu-%d.lock", (unsigned long long)ns.st_ino,
		 ifindex);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return mpq_oserr_set(&p->err, "open lock", errno);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		return mpq_oserr_set(&p->err, "lock (interface served by a running process)", e);
	}
	p->lock_fd = fd;
	return 0;
}

static void drop_lock(mpq_xdp_prog *p)
{
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	p->lock_fd = -1;
}

static const char *const counter_names[] = {
#define NAME_(id, name) [MPQ_STEER_CNT_##id] = #name,
	MPQ_STEER_COUNTERS(NAME_)
#undef NAME_
};

_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == MPQ_STEER_CNT__MAX,
	       "a name for every counter");

/*
 * libbpf and libxdp print through process-wide hooks whose default writes to
 * stderr. Ours are installed once (never saved and restored around calls,
 * which races between threads) and send what they are given to the log
 * callback of the object whose call runs on this thread; at other times
 * they drop it.
 */
static __thread const mpq_xdp_prog *log_target;
static pthread_once_t print_once = PTHREAD_ONCE_INIT;

static void log_lines(const mpq_xdp_prog *p, int level, const char *fmt, va_list ap)
{
	char *text, *line, *next;

	if (!p->cfg.log || vasprintf(&text, fmt, ap) < 0)
		return;
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line)
			p->cfg.log(p->cfg.log_ud, level, line);
	}
	free(text);
}

__attribute__((format(printf, 3, 4))) static void xlog(const mpq_xdp_prog *p, int level,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_lines(p, level, fmt, ap);
	va_end(ap);
}

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!log_target)
		return 0; /* the library never prints on its own (DESIGN.md rule 4) */
	log_lines(log_target, level == LIBBPF_WARN ? 1 : level == LIBBPF_INFO ? 2 : 3, fmt, ap);
	return 0;
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (!log_target)
		return 0;
	log_lines(log_target, level == LIBXDP_WARN ? 1 : level == LIBXDP_INFO ? 2 : 3, fmt, ap);
	return 0;
}

static void install_print(void)
{
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
}

void mpq_bpf_quiet(void)
{
	pthread_once(&print_once, install_print);
}

/* Brackets every call into libbpf/libxdp. */
static void enter(const mpq_xdp_prog *p)
{
	log_target = p;
}

static int leave(int ret)
{
	log_target = NULL;
	return ret;
}

/* libbpf and libxdp return negative errno values. */
static int fail(mpq_xdp_prog *p, const char *call, int neg_errno)
{
	int e = neg_errno < 0 ? -neg_errno : EINVAL;

	if (e == E2BIG) { /* hash map full */
		mpq_oserr_set(&p->err, call, e);
		return MPQ_ERR_NOMEM;
	}
	return mpq_oserr_set(&p->err, call, e);
}

void mpq_xdp_prog_config_default(mpq_xdp_prog_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_version = MPQ_XDP_PROG_CONFIG_VERSION;
	cfg->ports[0] = 443;
	cfg->n_workers = 1;
}

static bool is_ip(const mpq_addr *a)
{
	return a->ss.ss_family == AF_INET || a->ss.ss_family == AF_INET6;
}

static bool config_ok(const mpq_xdp_prog_config *cfg)
{
	bool port = false;

	if (!cfg || cfg->struct_version != MPQ_XDP_PROG_CONFIG_V1)
		return false;
	for (int i = 0; i < MPQ_STEER_MAX_PORTS; i++)
		port |= cfg->ports[i] != 0;
	if (!port || cfg->n_workers < 1 || cfg->n_workers > MPQ_STEER_MAX_WORKERS ||
	    cfg->n_addrs > MPQ_XDP_PROG_CFG_ADDRS)
		return false;
	for (uint32_t i = 0; i < cfg->n_addrs; i++)
		if (!is_ip(&cfg->addrs[i]))
			return false;
	return true;
}

int mpq_xdp_prog_new(mpq_xdp_prog **out, const mpq_xdp_prog_config *cfg, mpq_oserr *err)
{
	struct mpq_steer_config *sc;
	mpq_xdp_prog *p;
	int ret;

	*out = NULL;
	if (!config_ok(cfg))
		return MPQ_ERR_INVALID_ARGUMENT;
	mpq_bpf_quiet();
	p = calloc(1, sizeof(*p));
	if (!p)
		return MPQ_ERR_NOMEM;
	p->cfg = *cfg;
	enter(p);
	p->lock_fd = -1;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		ret = fail(p, "possible cpus", p->ncpus);
		goto err;
	}
	p->percpu = calloc((size_t)p->ncpus, sizeof(uint64_t));
	if (!p->percpu) {
		ret = MPQ_ERR_NOMEM;
		goto err;
	}
	p->skel = mpq_steer_bpf__open();
	if (!p->skel) {
		ret = fail(p, "bpf open", -errno);
		goto err;
	}
	sc = &p->skel->rodata->mpq_steer_cfg;
	memcpy(sc->ports, cfg->ports, sizeof(sc->ports));
	sc->n_workers = cfg->n_workers;
	sc->hash_seed = cfg->hash_seed;
	sc->version = MPQ_STEER_VERSION;
	leave(0);
	*out = p;
	return 0;
err:
	leave(0);
	if (err)
		*err = p->err;
	mpq_xdp_prog_del(p);
	return ret;
}

static void loaded(mpq_xdp_prog *p)
{
	struct bpf_prog_info pi;
	__u32 len = sizeof(pi);

	p->loaded = true;
	memset(&pi, 0, sizeof(pi));
	if (!bpf_obj_get_info_by_fd(mpq_xdp_prog_fd(p), &pi, &len))
		p->info.prog_id = pi.id;
}

/* The addresses of interface |ifindex| (of |family|, 0: both) served. */
static int serve_interface(mpq_xdp_prog *p, int ifindex, int family)
{
	mpq_addr addrs[MPQ_STEER_MAX_ADDRS];
	char name[IF_NAMESIZE];
	int n, ret;

	if (!if_indextoname((unsigned int)ifindex, name))
		return mpq_oserr_set(&p->err, "if_indextoname", errno);
	n = mpq_if_addrs(name, addrs, MPQ_STEER_MAX_ADDRS);
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < MPQ_STEER_MAX_ADDRS; i++) {
		if (family && addrs[i].ss.ss_family != family)
			continue;
		ret = mpq_xdp_prog_addr_add(p, &addrs[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Serves cfg.addrs: wildcards (and no addresses at all) stand for those of
 * interface |ifindex|, skipped when it is 0. */
static int serve_config(mpq_xdp_prog *p, int ifindex)
{
	int ret = 0;

	if (p->cfg.n_addrs == 0)
		return ifindex ? serve_interface(p, ifindex, 0) : 0;
	for (uint32_t i = 0; i < p->cfg.n_addrs && ret == 0; i++) {
		const mpq_addr *a = &p->cfg.addrs[i];

		if (!mpq_addr_is_any(a))
			ret = mpq_xdp_prog_addr_add(p, a);
		else if (ifindex)
			ret = serve_interface(p, ifindex, a->ss.ss_family);
	}
	return ret;
}

int mpq_xdp_prog_load(mpq_xdp_prog *p)
{
	int ret;

	if (p->loaded)
		return MPQ_ERR_INVALID_ARGUMENT;
	enter(p);
	ret = mpq_steer_bpf__load(p->skel);
	if (ret)
		return leave(fail(p, "load", ret));
	loaded(p);
	return leave(serve_config(p, 0));
}

/* Detaches every program named PROG_NAME from |ifindex|: one left by a run
 * that ended without detaching (a crash, a kill -9). */
static void replace_stale(mpq_xdp_prog *p, int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *prog = NULL;
	enum xdp_attach_mode mode;
	int ret;

	if (libxdp_get_error(mp) || !mp)
		return;
	mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		prog = xdp_multiprog__main_prog(mp);
		if (prog && !strcmp(xdp_program__name(prog), PROG_NAME)) {
			xlog(p, 1,
			     "ifindex %d: replacing %s (id %u) left attached by an "
			     "earlier run",
			     ifindex, PROG_NAME, xdp_program__id(prog));
			ret = xdp_multiprog__detach(mp);
			if (ret)
				xlog(p, 1, "ifindex %d: detaching it failed: %s", ifindex,
				     strerror(-ret));
			else
				p->info.replaced_stale = true;
		}
	} else {
		while ((prog = xdp_multiprog__next_prog(prog, mp))) {
			if (strcmp(xdp_program__name(prog), PROG_NAME))
				continue;
			xlog(p, 1,
			     "ifindex %d: replacing %s (id %u) left in libxdp's dispatcher "
			     "by an earlier run",
			     ifindex, PROG_NAME, xdp_program__id(prog));
			ret = xdp_program__detach(prog, ifindex, mode, 0);
			if (ret)
				xlog(p, 1, "ifindex %d: detaching it failed: %s", ifindex,
				     strerror(-ret));
			else
				p->info.replaced_stale = true;
		}
	}
	xdp_multiprog__close(mp);
}

static const char *mode_name(mpq_xdp_mode mode)
{
	return mode == MPQ_XDP_MODE_NATIVE ? "native" : "generic (skb)";
}

static int attach_mode(mpq_xdp_prog *p, int ifindex, mpq_xdp_mode mode)
{
	return xdp_program__attach(p->xprog, ifindex,
				   mode == MPQ_XDP_MODE_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB,
				   0);
}

/* Whether our program sits behind libxdp's dispatcher on |ifindex|. */
static bool behind_dispatcher(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool ret;

	if (libxdp_get_error(mp) || !mp)
		return false;
	ret = !xdp_multiprog__is_legacy(mp);
	xdp_multiprog__close(mp);
	return ret;
}

int mpq_xdp_prog_attach(mpq_xdp_prog *p, int ifindex, mpq_xdp_mode mode)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = p->skel->obj, .prog_name = PROG_NAME);
	mpq_xdp_mode used = mode == MPQ_XDP_MODE_SKB ? MPQ_XDP_MODE_SKB : MPQ_XDP_MODE_NATIVE;
	int ret;

	if (p->loaded || p->xprog || ifindex <= 0)
		return MPQ_ERR_INVALID_ARGUMENT;
	ret = take_lock(p, ifindex);
	if (ret != 0) {
		xlog(p, 0, "ifindex %d: an mpquic program there belongs to a running process",
		     ifindex);
		return ret;
	}
	enter(p);
	replace_stale(p, ifindex);
	p->xprog = xdp_program__create(&opts);
	if (!p->xprog) {
		ret = fail(p, "xdp program", -errno);
		return leave(ret);
	}
	ret = attach_mode(p, ifindex, used);
	/* Another program holding the interface, or no interface, stops both. */
	if (ret && mode == MPQ_XDP_MODE_AUTO && ret != -ENODEV && ret != -EBUSY &&
	    ret != -EEXIST) {
		xlog(p, 1, "ifindex %d: native XDP failed (%s), trying generic (skb) mode",
		     ifindex, strerror(-ret));
		used = MPQ_XDP_MODE_SKB;
		ret = attach_mode(p, ifindex, used);
	}
	if (ret) {
		if (xdp_program__fd(p->xprog) >= 0)
			p->loaded = true;
		drop_lock(p);
		return leave(fail(p, "xdp attach", ret));
	}
	loaded(p);
	p->info.ifindex = ifindex;
	p->info.mode = used;
	ret = serve_config(p, ifindex);
	if (ret) {
		xlog(p, 1, "ifindex %d: the addresses to serve could not be set: detaching",
		     ifindex);
		leave(0);
		mpq_xdp_prog_detach(p);
		return ret;
	}
	p->info.dispatcher = behind_dispatcher(ifindex);
	xlog(p, 1, "ifindex %d: %s (id %u) attached in %s mode, %s", ifindex, PROG_NAME,
	     p->info.prog_id, mode_name(used),
	     p->info.dispatcher ? "behind libxdp's dispatcher"
				: "alone (no libxdp dispatcher: no bpffs or no kernel support)");
	return leave(0);
}

int mpq_xdp_prog_detach(mpq_xdp_prog *p)
{
	enum xdp_attach_mode m;
	int ret;

	if (!p->info.ifindex)
		return 0;
	m = p->info.mode == MPQ_XDP_MODE_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB;
	enter(p);
	ret = xdp_program__detach(p->xprog, p->info.ifindex, m, 0);
	if (ret)
		return leave(fail(p, "xdp detach", ret));
	xlog(p, 1, "ifindex %d: %s detached", p->info.ifindex, PROG_NAME);
	p->info.ifindex = 0;
	drop_lock(p);
	return leave(0);
}

void mpq_xdp_prog_del(mpq_xdp_prog *p)
{
	if (!p)
		return;
	mpq_xdp_prog_detach(p);
	enter(p);
	xdp_program__close(p->xprog);
	mpq_steer_bpf__destroy(p->skel);
	leave(0);
	free(p->percpu);
	drop_lock(p);
	free(p);
}

void mpq_xdp_prog_info_get(const mpq_xdp_prog *p, mpq_xdp_prog_info *info)
{
	*info = p->info;
}

int mpq_xdp_prog_fd(const mpq_xdp_prog *p)
{
	int fd = p->loaded ? bpf_program__fd(p->skel->progs.MPQ_STEER_PROG) : -1;

	return fd >= 0 ? fd : -1;
}

int mpq_xdp_prog_set_xsk(mpq_xdp_prog *p, uint32_t queue, uint32_t worker, int xsk_fd)
{
	uint32_t n = p->cfg.n_workers;
	uint32_t slot = MPQ_STEER_SLOT(queue, worker, n);
	int map, ret;

	if (!p->loaded || worker >= n || queue >= MPQ_STEER_XSKMAP_SIZE ||
	    slot >= MPQ_STEER_XSKMAP_SIZE)
		return MPQ_ERR_INVALID_ARGUMENT;
	map = bpf_map__fd(p->skel->maps.MPQ_STEER_MAP_XSKS);
	if (xsk_fd < 0) {
		ret = bpf_map_delete_elem(map, &slot);
		return ret ? fail(p, "xskmap delete", -errno) : 0;
	}
	ret = bpf_map_update_elem(map, &slot, &xsk_fd, BPF_ANY);
	if (ret && errno == EOPNOTSUPP) /* not an AF_XDP socket */
		return fail(p, "xskmap update", -EINVAL);
	return ret ? fail(p, "xskmap update", -errno) : 0;
}

static bool addr_key(struct mpq_steer_addr_key *key, const mpq_addr *a)
{
	memset(key, 0, sizeof(*key));
	if (a->ss.ss_family == AF_INET && a->len >= sizeof(struct sockaddr_in)) {
		key->family = 4;
		memcpy(key->addr, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
	} else if (a->ss.ss_family == AF_INET6 && a->len >= sizeof(struct sockaddr_in6)) {
		key->family = 6;
		memcpy(key->addr, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
	} else {
		return false;
	}
	return !mpq_addr_is_any(a);
}

int mpq_xdp_prog_addr_add(mpq_xdp_prog *p, const mpq_addr *addr)
{
	struct mpq_steer_addr_key key;
	__u32 one = 1;

	if (!p->loaded || !addr_key(&key, addr))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.MPQ_STEER_MAP_ADDRS), &key, &one,
				BPF_ANY))
		return fail(p, "addr map update", -errno);
	return 0;
}

int mpq_xdp_prog_addr_del(mpq_xdp_prog *p, const mpq_addr *addr)
{
	struct mpq_steer_addr_key key;

	if (!p->loaded || !addr_key(&key, addr))
		return MPQ_ERR_INVALID_ARGUMENT;
	if (bpf_map_delete_elem(bpf_map__fd(p->skel->maps.MPQ_STEER_MAP_ADDRS), &key))
		return fail(p, "addr map delete", -errno);
	return 0;
}

static int read_counter(mpq_xdp_prog *p, uint32_t idx, uint64_t *value)
{
	int map = bpf_map__fd(p->skel->maps.MPQ_STEER_MAP_COUNTERS);

	if (bpf_map_lookup_elem(map, &idx, p->percpu))
		return fail(p, "counters lookup", -errno);
	*value = 0;
	for (int cpu = 0; cpu < p->ncpus; cpu++)
		*value += p->percpu[cpu];
	return 0;
}

int mpq_xdp_prog_counters(mpq_xdp_prog *p, uint64_t out[MPQ_STEER_CNT__MAX])
{
	if (!p->loaded)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (uint32_t i = 0; i < MPQ_STEER_CNT__MAX; i++) {
		int ret = read_counter(p, i, &out[i]);

		if (ret)
			return ret;
	}
	return 0;
}

int mpq_xdp_prog_counter(mpq_xdp_prog *p, const char *name, uint64_t *value)
{
	if (!p->loaded)
		return MPQ_ERR_INVALID_ARGUMENT;
	for (uint32_t i = 0; i < MPQ_STEER_CNT__MAX; i++)
		if (!strcmp(counter_names[i], name))
			return read_counter(p, i, value);
	return MPQ_ERR_NOT_FOUND;
}

const char *mpq_xdp_prog_counter_name(unsigned int idx)
{
	return idx < MPQ_STEER_CNT__MAX ? counter_names[idx] : NULL;
}

const mpq_oserr *mpq_xdp_prog_oserr(const mpq_xdp_prog *p)
{
	return &p->err;
}
