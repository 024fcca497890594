/*
 * true.c — the program execproc executes: exits 0 at once.
 */
int main(int argc, char **argv)
{
    return 0;
}
