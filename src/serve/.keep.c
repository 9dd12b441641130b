/* keeps the wedge_serve library non-empty while src/serve grows */
typedef int wedge_serve_keep;
