/*
 * outfile.c - safe output files (see outfile.h for the policy).
 *
 * Limits: the temporary file lives in the target's directory (a rename
 * does not cross file systems), so that directory must be writable when
 * the file is opened; a name longer than PATH_MAX is refused.
 */
#define _GNU_SOURCE   /* mkostemp */
#include "capture/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cap_out {
	char *dest;    /* the name the rename goes to */
	char *tmp;     /* the temporary name; NULL: written in place */
	int fd;
	int committed;
};

/* A non-regular file written in place: FIFOs and character devices only. */
static int in_place_ok(const struct stat *st)
{
	return S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode);
}

static struct cap_out *open_in_place(const char *path, int follow, char *err, size_t errlen)
{
	struct cap_out *o = calloc(1, sizeof(*o));
	struct stat st;
	if (!o || !(o->dest = strdup(path))) {
		free(o);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	o->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (o->fd < 0 || fstat(o->fd, &st) != 0 || !in_place_ok(&st)) {
		snprintf(err, errlen, "%s: %s", path,
			 o->fd < 0 ? strerror(errno) : "not a regular file, FIFO or character device");
		cap_out_free(o);
		return NULL;
	}
	return o;
}

/* A new temporary file beside `dest`, with `mode` (and the owner of `old`). */
static struct cap_out *open_temp(const char *dest, mode_t mode, const struct stat *old, char *err, size_t errlen)
{
	struct cap_out *o = calloc(1, sizeof(*o));
	const char *slash = strrchr(dest, '/');
	size_t dlen = slash ? (size_t)(slash - dest) + 1 : 0, n = strlen(dest) + 16;
	if (!o || !(o->dest = strdup(dest)) || !(o->tmp = malloc(n))) {
		if (o)
			free(o->dest);
		free(o);
		snprintf(err, errlen, "%s: out of memory", dest);
		return NULL;
	}
	o->fd = -1;
	if (slash && !slash[1]) {
		snprintf(err, errlen, "%s: %s", dest, strerror(EISDIR));
		cap_out_free(o);
		return NULL;
	}
	snprintf(o->tmp, n, "%.*s.%s.XXXXXX", (int)dlen, dest, dest + dlen);
	/* mkostemp: O_CREAT|O_EXCL, mode 0600; O_EXCL never follows a link */
	o->fd = mkostemp(o->tmp, O_CLOEXEC | O_NOFOLLOW);
	if (o->fd < 0) {
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		cap_out_free(o);
		return NULL;
	}
	if (old && geteuid() == 0)
		(void)!fchown(o->fd, old->st_uid, old->st_gid);
	if (fchmod(o->fd, mode) != 0) {
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
		cap_out_free(o);
		return NULL;
	}
	return o;
}

struct cap_out *cap_out_open(const char *path, char *err, size_t errlen)
{
	struct stat lst, st;
	mode_t um = umask(0);
	umask(um);
	if (!*path) {
		snprintf(err, errlen, "an empty file name");
		return NULL;
	}
	if (strlen(path) >= PATH_MAX - 16) {
		snprintf(err, errlen, "%.64s...: %s", path, strerror(ENAMETOOLONG));
		return NULL;
	}
	if (lstat(path, &lst) != 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		return open_temp(path, 0666 & ~um, NULL, err, errlen);
	}
	if (S_ISREG(lst.st_mode))
		return open_temp(path, lst.st_mode & 07777, &lst, err, errlen);
	if (S_ISLNK(lst.st_mode)) {
		/* only our own links are followed (and root's: /dev/stdout) */
		if ((lst.st_uid == geteuid() || lst.st_uid == 0) && stat(path, &st) == 0) {
			char *real;
			struct cap_out *o;
			if (in_place_ok(&st))
				return open_in_place(path, 1, err, errlen);
			if (!S_ISREG(st.st_mode)) {
				snprintf(err, errlen, "%s: not a regular file, FIFO or character device", path);
				return NULL;
			}
			real = realpath(path, NULL);
			if (!real) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				return NULL;
			}
			o = open_temp(real, st.st_mode & 07777, &st, err, errlen);
			free(real);
			return o;
		}
		/* someone else's link: replaced, never written through */
		return open_temp(path, 0666 & ~um, NULL, err, errlen);
	}
	if (in_place_ok(&lst))
		return open_in_place(path, 0, err, errlen);
	snprintf(err, errlen, "%s: not a regular file, FIFO or character device", path);
	return NULL;
}

int cap_out_fd(const struct cap_out *o) { return o->fd; }
int cap_out_in_place(const struct cap_out *o) { return o->tmp == NULL; }

int cap_out_stat(const struct cap_out *o, struct stat *st)
{
	return fstat(o->fd, st);
}

int cap_out_commit(struct cap_out *o, char *err, size_t errlen)
{
	if (!o->tmp || o->committed)
		return 0;
	if (rename(o->tmp, o->dest) != 0) {
		snprintf(err, errlen, "%s: %s", o->dest, strerror(errno));
		return -1;
	}
	o->committed = 1;
	return 0;
}

void cap_out_free(struct cap_out *o)
{
	if (!o)
		return;
	if (o->tmp && !o->committed)
		unlink(o->tmp);
	if (o->fd >= 0)
		close(o->fd);
	free(o->tmp);
	free(o->dest);
	free(o);
}
