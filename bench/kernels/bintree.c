/* bintree.c — allocate and free many binary trees with malloc/free
 * (allocator-heavy, pointer chasing).  Prints node counts and a check
 * value that does not depend on addresses.
 *   bintree [MAXDEPTH]   default 16 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct node { struct node *l, *r; int32_t v; } node;

static node *make(int depth, int32_t v)
{
    node *n = malloc(sizeof *n);
    if (!n) {
        printf("bintree out of memory\n");
        exit(2);
    }
    n->v = v;
    if (depth > 0) {
        n->l = make(depth - 1, 2 * v - 1);
        n->r = make(depth - 1, 2 * v);
    } else {
        n->l = n->r = NULL;
    }
    return n;
}

static int64_t check(const node *n)
{
    return n->l ? n->v + check(n->l) - check(n->r) : n->v;
}

static void drop(node *n)
{
    if (n->l) {
        drop(n->l);
        drop(n->r);
    }
    free(n);
}

int main(int argc, char **argv)
{
    int max_depth = argc > 1 ? atoi(argv[1]) : 16;
    if (max_depth < 6 || max_depth > 24)
        return 1;
    node *longlived = make(max_depth, 0);
    int64_t total = 0;
    for (int d = 4; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + 4);
        int64_t c = 0;
        for (long i = 1; i <= iters; i++) {
            node *a = make(d, (int32_t)i);
            node *b = make(d, (int32_t)-i);
            c += check(a) + check(b);
            drop(a);
            drop(b);
        }
        total = total * 7 + c;
    }
    printf("bintree %lld %lld\n", (long long)total, (long long)check(longlived));
    drop(longlived);
    return 0;
}
