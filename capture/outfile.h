/*
 * outfile.h - the files tlswhy writes (-o, -w): made safely, put in place
 * only when the run has something to put there.
 *
 * A regular file (or a name that does not exist yet) is written to a new
 * temporary file beside it, ".NAME.XXXXXX", made with O_CREAT|O_EXCL|
 * O_NOFOLLOW (so no symlink planted in the directory is ever written
 * through), with the permissions (and, as root, the owner) of the file it
 * replaces, or 0666 less the umask for a new one; cap_out_commit()
 * renames it over the name, cap_out_abort() removes it. A symlink that
 * is not the caller's own (nor root's) is never followed: the link itself
 * is what the rename replaces, the file it points to is left alone.
 *
 * A FIFO or a character device (a pipe from >(...), /dev/null,
 * /dev/full, a terminal) is opened and written in place; so is the file
 * behind a symlink the caller or root owns (/dev/stdout, /proc/self/fd/N).
 * Block devices, directories and sockets are refused.
 *
 * The descriptor is opened at start-up (as root when tlswhy starts as
 * root), before the first packet, and every write goes through it, so a
 * run that later drops privileges still writes where only root could
 * create a file. The rename needs the directory too: a run that drops
 * privileges commits its outputs just before the drop.
 */
#ifndef TLSWHY_CAP_OUTFILE_H
#define TLSWHY_CAP_OUTFILE_H

#include <stddef.h>
#include <sys/stat.h>

struct cap_out;

/* NULL with `err` ("PATH: why"). */
struct cap_out *cap_out_open(const char *path, char *err, size_t errlen);
/* The descriptor to write (owned by the cap_out: dup it to hand it on). */
int cap_out_fd(const struct cap_out *o);
/* 1 when it is written in place (no rename to come). */
int cap_out_in_place(const struct cap_out *o);
/* The device and inode the output will have (for clash checks). */
int cap_out_stat(const struct cap_out *o, struct stat *st);
/* Puts the temporary file in place. 0, or -1 with `err`. */
int cap_out_commit(struct cap_out *o, char *err, size_t errlen);
/* Removes the temporary file unless it was committed, closes, frees. NULL is fine. */
void cap_out_free(struct cap_out *o);

#endif
