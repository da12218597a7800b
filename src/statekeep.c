#include "statekeep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "log.h"

struct statekeep {
	char path[256], tmp[264];
	int dirty;
	struct state_buf buf;
	struct state_meta meta;
	struct state_stats st;
};

/* Bigger than any image a table of 2^20 calls and connections makes. */
#define STATE_MAX_FILE (1u << 30)

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The kernel's id of this boot: monotonic times (and conntrack's entries)
 * mean nothing in another.  All zero when it cannot be read.
 */
static void boot_id(uint8_t id[16])
{
	char s[64];
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int i = 0, j, hi = -1;

	memset(id, 0, 16);
	if (!f)
		return;
	if (fgets(s, sizeof(s), f))
		for (j = 0; s[j] && i < 16; j++) {
			int v = hexval(s[j]);

			if (v < 0)
				continue;
			if (hi < 0) {
				hi = v;
			} else {
				id[i++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
	fclose(f);
}

struct statekeep *statekeep_open(const char *path)
{
	struct statekeep *sk;

	if (!path || !*path || !strcmp(path, "off"))
		return NULL;
	sk = calloc(1, sizeof(*sk));
	if (!sk) {
		log_err("out of memory: calls are not kept across restarts");
		return NULL;
	}
	snprintf(sk->path, sizeof(sk->path), "%s", path);
	snprintf(sk->tmp, sizeof(sk->tmp), "%s.tmp", path);
	boot_id(sk->meta.boot_id);
	/* Its directory, as the control socket's (/run/pptpgw by default,
	 * which systemd makes for the service). */
	{
		char dir[256], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			if (mkdir(dir, 0750) < 0 && errno != EEXIST)
				log_warn("state file %s: cannot make its "
					 "directory (%s)", path,
					 strerror(errno));
		}
	}
	return sk;
}

void statekeep_close(struct statekeep *sk)
{
	if (!sk)
		return;
	state_buf_free(&sk->buf);
	free(sk);
}

void statekeep_dirty(struct statekeep *sk)
{
	if (sk)
		sk->dirty = 1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int statekeep_flush(struct statekeep *sk, const struct gw *g)
{
	static struct log_rl rl;
	uint64_t t0, us;
	int fd, err;

	if (!sk || !sk->dirty)
		return 0;
	t0 = mono_us();
	sk->meta.now = now_ms();
	if (state_encode(g, &sk->meta, &sk->buf) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	/*
	 * A new file renamed over the old one: a reader (the next process)
	 * finds the old image or the new one, never half of one.  fsync
	 * first, so that a rename that survives a crash has its bytes.
	 */
	fd = open(sk->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (write_all(fd, sk->buf.p, sk->buf.len) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlink(sk->tmp);
		errno = err;
		goto fail;
	}
	close(fd);
	if (rename(sk->tmp, sk->path) < 0) {
		err = errno;
		unlink(sk->tmp);
		errno = err;
		goto fail;
	}
	sk->dirty = 0;
	us = mono_us() - t0;
	sk->st.writes++;
	sk->st.bytes_last = sk->buf.len;
	sk->st.us_last = us;
	sk->st.us_total += us;
	if (us > sk->st.us_max)
		sk->st.us_max = us;
	return 0;
fail:
	sk->st.write_errors++;
	log_limited(&rl, LOG_WARNING, "state file %s: cannot write (%s): a "
		    "restart now would lose calls", sk->path, strerror(errno));
	return -1;
}

/* The whole file, or NULL (errno ENOENT when there is none). */
static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *p = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > STATE_MAX_FILE) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	p = malloc((size_t)sb.st_size + 1);
	while (p && got < (size_t)sb.st_size) {
		ssize_t r = read(fd, p + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return p;
}

uint32_t statekeep_load(struct statekeep *sk, struct gw *g)
{
	struct state_counts cnt;
	struct state_meta m;
	enum state_err e;
	uint8_t *img;
	size_t len = 0;
	char why[200];

	if (!sk)
		return 0;
	img = read_file(sk->path, &len);
	if (!img) {
		if (errno == ENOENT)
			log_info("state file %s: none, starting with no calls",
				 sk->path);
		else
			log_warn("state file %s: cannot read (%s), starting "
				 "with no calls", sk->path, strerror(errno));
		return 0;
	}
	m = sk->meta;
	m.now = now_ms();
	e = state_decode(g, img, len, &m, &cnt, why, sizeof(why));
	free(img);
	if (e != STATE_OK) {
		log_warn("state file %s refused (%s), starting with no calls",
			 sk->path, why);
		return 0;
	}
	log_info("state file %s: %u control connections, %u calls, %u "
		 "hold-downs loaded", sk->path, cnt.conns, cnt.calls,
		 cnt.holds);
	/* What is kept from now on is this process's. */
	sk->dirty = 1;
	return cnt.conns;
}

void statekeep_forget(struct statekeep *sk)
{
	if (!sk)
		return;
	if (unlink(sk->path) < 0 && errno != ENOENT)
		log_warn("state file %s: cannot remove (%s)", sk->path,
			 strerror(errno));
	sk->dirty = 0;
}

const struct state_stats *statekeep_stats(const struct statekeep *sk)
{
	return sk ? &sk->st : NULL;
}

const char *statekeep_path(const struct statekeep *sk)
{
	return sk ? sk->path : "off";
}
