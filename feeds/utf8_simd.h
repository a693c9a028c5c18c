/* feeds/utf8_simd.h - the body of utf8_xml_clean() for one vector width,
 * included by utf8.c once per instruction set with the operations below
 * defined (internal to feeds/; see utf8.c for the method):
 *
 *   UTF8_NAME, UTF8_TARGET   the function's name and its target("...")
 *   W, VEC                   bytes per vector, the vector type
 *   LOAD(p), TABLE(t)        an unaligned load; a 16-byte table, repeated
 *   SET1, ZERO, AND, OR, XOR, ANDNOT, EQ, GT (signed), SUBS (unsigned,
 *   saturating), LOOKUP (byte shuffle), SRL4, MASK (movemask), ALL
 *   PREV(v, p, k)            v's bytes shifted k on, p's last k first
 *
 * It undefines them all at the end. */

__attribute__((target(UTF8_TARGET))) static int
UTF8_NAME(const unsigned char *s, size_t n)
{
    const VEC t_prev_high = TABLE(prev_high), t_prev_low = TABLE(prev_low),
              t_this_high = TABLE(this_high);
    const VEC cut = LOAD(cut_limit + 32 - W);
    const VEC nib = SET1(0x0f), zero = ZERO(), x80 = SET1(0x80);
    const VEC t_ctrl_high = TABLE(ctrl_high), t_ctrl_low = TABLE(ctrl_low);
    const VEC ef = SET1(0xef), bf = SET1(0xbf), one = SET1(1);
    const VEC third_min = SET1(0xe0 - 1), fourth_min = SET1(0xf0 - 1);
    VEC prev = zero, pending = zero, err = zero;
    unsigned char pad[W];
    size_t i = 0;

    while (i < n) {
        VEC v;

        if (i + W <= n)
            v = LOAD(s + i);
        else {
            /* The last bytes, padded with spaces: a sequence they cut
             * short is then TOO_SHORT like any other. */
            memset(pad, ' ', sizeof(pad));
            memcpy(pad, s + i, n - i);
            v = LOAD(pad);
        }
        i += W;

        /* 0x00..0x1f but tab, LF, CR: by both nibbles. */
        VEC high = AND(SRL4(v), nib);

        err = OR(err, AND(LOOKUP(t_ctrl_high, high),
                          LOOKUP(t_ctrl_low, AND(v, nib))));
        if (MASK(v) == 0) {
            /* All ASCII: only a sequence cut by the vector before can be
             * wrong. */
            err = OR(err, pending);
            pending = zero;
            prev = v;
            continue;
        }

        VEC prev1 = PREV(v, prev, 1), prev2 = PREV(v, prev, 2),
            prev3 = PREV(v, prev, 3);
        VEC special =
            AND(AND(LOOKUP(t_prev_high, AND(SRL4(prev1), nib)),
                    LOOKUP(t_prev_low, AND(prev1, nib))),
                LOOKUP(t_this_high, high));
        /* Where the byte two or three back leads a three- or four-byte
         * sequence, this one must be a continuation; TWO_CONTS says it
         * is one. The two must agree. */
        VEC must = GT(OR(SUBS(prev2, third_min), SUBS(prev3, fourth_min)),
                      zero);

        err = OR(err, XOR(AND(must, x80), special));
        /* EF BF BE and EF BF BF: U+FFFE, U+FFFF. */
        err = OR(err, AND(AND(EQ(prev2, ef), EQ(prev1, bf)),
                          EQ(OR(v, one), bf)));
        pending = SUBS(v, cut);
        prev = v;
    }
    err = OR(err, pending);
    return MASK(EQ(err, zero)) == ALL;
}

#undef UTF8_NAME
#undef UTF8_TARGET
#undef W
#undef VEC
#undef LOAD
#undef TABLE
#undef SET1
#undef ZERO
#undef AND
#undef OR
#undef XOR
#undef ANDNOT
#undef EQ
#undef GT
#undef SUBS
#undef LOOKUP
#undef SRL4
#undef MASK
#undef ALL
#undef PREV
