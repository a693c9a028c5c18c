/* tests/unit/rm_rf.h - removes a test's scratch folder and all in it, for
 * the unit tests that work in one (the store's, ingest's). */
#ifndef FEEDD_TEST_RM_RF_H
#define FEEDD_TEST_RM_RF_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((unused)) static void
rm_rf(const char *path)
{
    char sub[512];
    struct dirent *de;
    DIR *d = opendir(path);

    if (d == NULL) {
        unlink(path);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}

#endif
