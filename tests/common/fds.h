/* Counting this process's open descriptors, to check what an object holds. */
#ifndef MPQ_TEST_FDS_H
#define MPQ_TEST_FDS_H

/* The entries of /proc/self/fd (the directory's own descriptor included);
 * fails the running cmocka test when it cannot be read. */
int test_count_fds(void);

#endif
