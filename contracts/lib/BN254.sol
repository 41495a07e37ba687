// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title BN254 helpers for the Hubble-style BLS scheme Othentic uses
/// @notice Signatures and message points live in G1, public keys in G2. A public key is
/// `uint256[4]` laid out [x.c0, x.c1, y.c0, y.c1] (real part first); the EIP-197 precompiles
/// want the imaginary part first, so every call into them reorders.
/// @dev Everything heavy goes through precompiles (0x02 SHA-256, 0x05 modexp, 0x06 ecAdd,
/// 0x08 pairing): an inversion or square root is one modexp call (~1.4k gas) instead of a
/// few hundred mulmods, which is what keeps hashToPoint far below Othentic's ~64k.
library BN254 {
    /// Base field modulus p.
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;
    /// Order r of G1 and G2.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    /// (p + 1) / 4: x^((p+1)/4) is a square root of x whenever one exists (p = 3 mod 4).
    uint256 private constant SQRT_EXP = 0xc19139cb84c680a6e14116da060561765e05aa45a1c72a34f082305b61f3f52;
    /// 2^256 mod p, to reduce the 384-bit halves of expand_message_xmd's output.
    uint256 private constant R256 = 0xe0a77c19a07df2f666ea36f7879462c0a78eb28f5c70b3dd35d438dc58f0d9d;

    /// Fouque-Tibouchi constants for y^2 = x^3 + 3: sqrt(-3) and (sqrt(-3) - 1) / 2. These are
    /// the roots BLS.sol picked; the other root would map every message to a different point.
    uint256 private constant FT_Z0 = 0x0000000000000000b3c4d79d41a91759a9e4c7e359b6b89eaec68e62effffffd;
    uint256 private constant FT_Z1 = 0x000000000000000059e26bcea0d48bacd4f263f1acdb5c4f5763473177fffffe;

    /// -G2 (the EIP-197 generator with y negated), in precompile order (imaginary first).
    uint256 private constant NEG_G2_X_IM = 0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2;
    uint256 private constant NEG_G2_X_RE = 0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed;
    uint256 private constant NEG_G2_Y_IM = 0x275dc4a288d1afb3cbb1ac09187524c7db36395df7be3b99e673b13a075a65ec;
    uint256 private constant NEG_G2_Y_RE = 0x1d9befcd05a5323e6da4d435f3b617cdb3af83285c2df711ef39c01571827f9d;

    /// base^exponent mod p through the modexp precompile.
    function expMod(uint256 base, uint256 exponent) internal view returns (uint256 result) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x20)
            mstore(add(m, 0x20), 0x20)
            mstore(add(m, 0x40), 0x20)
            mstore(add(m, 0x60), base)
            mstore(add(m, 0x80), exponent)
            mstore(add(m, 0xa0), P)
            if iszero(staticcall(gas(), 0x05, m, 0xc0, 0x00, 0x20)) { revert(0, 0) }
            result := mload(0x00)
        }
    }

    /// 1/a mod p (0 for a = 0, as a^(p-2) gives).
    function inverse(uint256 a) internal view returns (uint256) {
        return expMod(a, P - 2);
    }

    /// The root a^((p+1)/4) and whether it really is a square root of a (a < p).
    function sqrt(uint256 a) internal view returns (uint256 root, bool exists) {
        root = expMod(a, SQRT_EXP);
        exists = mulmod(root, root, P) == a;
    }

    /// RFC 9380 expand_message_xmd with SHA-256 to 96 bytes, DST = the 32-byte domain. Returns
    /// the three 32-byte blocks b1, b2, b3 of the output.
    function expandMsgTo96(bytes32 domain, bytes memory message)
        internal
        view
        returns (uint256 b1, uint256 b2, uint256 b3)
    {
        assembly ("memory-safe") {
            let len := mload(message)
            let m := mload(0x40)
            // b0 = H(Z_pad(64) || msg || I2OSP(96, 2) || I2OSP(0, 1) || DST || I2OSP(32, 1))
            mstore(m, 0)
            mstore(add(m, 0x20), 0)
            mcopy(add(m, 0x40), add(message, 0x20), len)
            let q := add(add(m, 0x40), len)
            mstore8(q, 0)
            mstore8(add(q, 1), 96)
            mstore8(add(q, 2), 0)
            mstore(add(q, 3), domain)
            mstore8(add(q, 35), 32)
            if iszero(staticcall(gas(), 0x02, m, add(len, 100), 0x00, 0x20)) { revert(0, 0) }
            let b0 := mload(0x00)
            // b_i = H((b0 xor b_{i-1}) || I2OSP(i, 1) || DST || I2OSP(32, 1)), b_0 xor nothing for i = 1
            mstore(m, b0)
            mstore8(add(m, 0x20), 1)
            mstore(add(m, 0x21), domain)
            mstore8(add(m, 0x41), 32)
            if iszero(staticcall(gas(), 0x02, m, 66, 0x00, 0x20)) { revert(0, 0) }
            b1 := mload(0x00)
            mstore(m, xor(b0, b1))
            mstore8(add(m, 0x20), 2)
            if iszero(staticcall(gas(), 0x02, m, 66, 0x00, 0x20)) { revert(0, 0) }
            b2 := mload(0x00)
            mstore(m, xor(b0, b2))
            mstore8(add(m, 0x20), 3)
            if iszero(staticcall(gas(), 0x02, m, 66, 0x00, 0x20)) { revert(0, 0) }
            b3 := mload(0x00)
        }
    }

    /// The two field elements of the 96 expanded bytes: bytes 0-48 and 48-96, big-endian, mod p.
    function hashToField(bytes32 domain, bytes memory message) internal view returns (uint256 u0, uint256 u1) {
        (uint256 b1, uint256 b2, uint256 b3) = expandMsgTo96(domain, message);
        // bytes 0..48 = b1 || high half of b2; bytes 48..96 = low half of b2 || b3
        u0 = addmod(mulmod(b1, 1 << 128, P), b2 >> 128, P);
        u1 = addmod(mulmod(b2 & type(uint128).max, R256, P), b3, P);
    }

    function _curveRhs(uint256 x) private pure returns (uint256) {
        return addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
    }

    /// Fouque-Tibouchi map of a field element t < p to G1, choosing x1, x2, x3 and the sign of
    /// y exactly as BLS.sol does (so the same message gives the same point off-chain).
    function mapToPoint(uint256 t) internal view returns (uint256 x, uint256 y) {
        (, bool tIsSquare) = sqrt(t);
        uint256 a0 = addmod(mulmod(t, t, P), 4, P); // t^2 + 1 + b
        uint256 a1 = mulmod(t, FT_Z0, P);
        uint256 a2 = inverse(mulmod(a1, a0, P));
        uint256 tw = mulmod(t, mulmod(mulmod(a1, a1, P), a2, P), P); // t * w
        x = addmod(FT_Z1, P - tw, P);
        bool found;
        (y, found) = sqrt(_curveRhs(x));
        if (!found) {
            x = P - addmod(x, 1, P);
            (y, found) = sqrt(_curveRhs(x));
            if (!found) {
                uint256 a0sq = mulmod(a0, a0, P);
                x = addmod(mulmod(mulmod(mulmod(a0sq, a0sq, P), a2, P), a2, P), 1, P);
                (y, found) = sqrt(_curveRhs(x));
                // Fouque-Tibouchi guarantees one of x1, x2, x3 is on the curve.
                assert(found);
            }
        }
        if (!tIsSquare) y = P - y;
    }

    /// G1 addition through the ecAdd precompile.
    function g1Add(uint256 ax, uint256 ay, uint256 bx, uint256 by) internal view returns (uint256 x, uint256 y) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, ax)
            mstore(add(m, 0x20), ay)
            mstore(add(m, 0x40), bx)
            mstore(add(m, 0x60), by)
            if iszero(staticcall(gas(), 0x06, m, 0x80, m, 0x40)) { revert(0, 0) }
            x := mload(m)
            y := mload(add(m, 0x20))
        }
    }

    /// s * (x, y) through the ecMul precompile.
    function g1Mul(uint256 x, uint256 y, uint256 s) internal view returns (uint256 rx, uint256 ry) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, x)
            mstore(add(m, 0x20), y)
            mstore(add(m, 0x40), s)
            if iszero(staticcall(gas(), 0x07, m, 0x60, m, 0x40)) { revert(0, 0) }
            rx := mload(m)
            ry := mload(add(m, 0x20))
        }
    }

    /// -(x, y): (x, p - y), infinity staying (0, 0).
    function g1Neg(uint256 x, uint256 y) internal pure returns (uint256, uint256) {
        return (x, y == 0 ? 0 : P - y);
    }

    /// The message point of BLS.sol's hashToPoint(domain, message).
    /// @dev Same result as mapToPoint(u0) + mapToPoint(u1), with fewer modexp calls (each is
    /// ~4k gas since EIP-7883): one inversion shared by both maps, and each candidate y taken
    /// as (t^2 g)^((p+1)/4) / t = chi(t) g^((p+1)/4), which is BLS.sol's root of g already
    /// carrying its sign, so chi(t) costs no exponentiation of its own.
    function hashToPoint(bytes32 domain, bytes memory message) internal view returns (uint256[2] memory point) {
        (uint256 u0, uint256 u1) = hashToField(domain, message);
        uint256 a00 = addmod(mulmod(u0, u0, P), 4, P);
        uint256 a01 = mulmod(u0, FT_Z0, P);
        uint256 a10 = addmod(mulmod(u1, u1, P), 4, P);
        uint256 a11 = mulmod(u1, FT_Z0, P);
        uint256 d0 = mulmod(a01, a00, P);
        uint256 d1 = mulmod(a11, a10, P);
        uint256 a20;
        uint256 a21;
        if (u0 == 0 || u1 == 0) {
            // t = 0 has no inverse: each map its own (probability ~2^-253); inverse(0) = 0 is the
            // a2 BLS.sol's step-by-step map takes for it
            (a20, a21) = (inverse(d0), inverse(d1));
        } else {
            uint256 inv = inverse(mulmod(d0, d1, P));
            (a20, a21) = (mulmod(d1, inv, P), mulmod(d0, inv, P));
        }
        (uint256 x0, uint256 y0) = _mapWithInverse(u0, a00, a01, a20);
        (uint256 x1, uint256 y1) = _mapWithInverse(u1, a10, a11, a21);
        (point[0], point[1]) = g1Add(x0, y0, x1, y1);
    }

    /// mapToPoint(t), given a0 = t^2 + 4, a1 = t sqrt(-3) and a2 = 1 / (a1 a0) (0 for t = 0).
    function _mapWithInverse(uint256 t, uint256 a0, uint256 a1, uint256 a2)
        private
        view
        returns (uint256 x, uint256 y)
    {
        uint256 tInv = mulmod(mulmod(a2, FT_Z0, P), a0, P);
        uint256 t2 = mulmod(t, t, P);
        x = addmod(FT_Z1, P - mulmod(t, mulmod(mulmod(a1, a1, P), a2, P), P), P);
        bool found;
        (y, found) = _signedRoot(x, t2, tInv);
        if (found) return (x, y);
        x = P - addmod(x, 1, P);
        (y, found) = _signedRoot(x, t2, tInv);
        if (found) return (x, y);
        uint256 a0sq = mulmod(a0, a0, P);
        x = addmod(mulmod(mulmod(mulmod(a0sq, a0sq, P), a2, P), a2, P), 1, P);
        (y, found) = _signedRoot(x, t2, tInv);
        // Fouque-Tibouchi guarantees one of x1, x2, x3 is on the curve.
        assert(found);
    }

    /// chi(t) * g^((p+1)/4) for g = x^3 + 3, and whether it is a square root of g. tInv = 1/t,
    /// 0 for t = 0, which BLS.sol counts a square: the root then keeps its sign.
    function _signedRoot(uint256 x, uint256 t2, uint256 tInv) private view returns (uint256 y, bool found) {
        uint256 g = _curveRhs(x);
        y = tInv == 0 ? expMod(g, SQRT_EXP) : mulmod(expMod(mulmod(t2, g, P), SQRT_EXP), tInv, P);
        found = mulmod(y, y, P) == g;
    }

    /// hashToPoint32(domain, hash) from a witness the caller computed off-chain, checked with a
    /// few mulmods instead of modexp calls (docs/protocol.md, "Contracts"), read from `w` at byte
    /// `o`: the inverse of both maps' denominators, then per map a word z | k << 254 (k < 3: how
    /// many x candidates BLS.sol rejects before the one it takes; y = z^2 / t, so y t is a square
    /// and y has t's quadratic character: the sign BLS.sol gives y) and k roots of -g(x) (g(x) is
    /// no square). Each check is a proof, so a witness that passes gives exactly hashToPoint32's
    /// point, written into `point`; any other gives ok = false and leaves `point` as it was, and
    /// the caller then hashes the usual way.
    function hashToPoint32Witnessed(
        bytes32 domain,
        bytes32 hash,
        bytes calldata w,
        uint256 o,
        uint256[2] memory point
    ) internal view returns (bool ok, uint256 next)
    {
        (uint256 u0, uint256 u1) = hashToField(domain, abi.encode(hash));
        next = o;
        if (u0 == 0 || u1 == 0 || o + 96 > w.length) return (false, o);
        assembly ("memory-safe") {
            function rhs(x, p) -> r {
                r := addmod(mulmod(mulmod(x, x, p), x, p), 3, p)
            }
            // _mapWithInverse(t, a0 = t^2 + 4, a1 = t sqrt(-3), a2 = 1 / (a1 a0)) from the witness at
            // calldata q (before end); q' = 0 when it does not hold
            function map(t, a2, q, end, p) -> x, y, q_ {
                let a0 := addmod(mulmod(t, t, p), 4, p)
                let a1 := mulmod(t, FT_Z0, p)
                let head := calldataload(q)
                let k := shr(254, head)
                let z := and(head, sub(shl(254, 1), 1))
                q_ := add(q, shl(5, add(k, 1)))
                if or(or(gt(k, 2), iszero(lt(z, p))), gt(q_, end)) {
                    q_ := 0
                    leave
                }
                x := addmod(FT_Z1, sub(p, mulmod(t, mulmod(mulmod(a1, a1, p), a2, p), p)), p)
                for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                    // g(x) != 0 and -g(x) a square: g(x) is no square (-1 is none, p = 3 mod 4)
                    let g := rhs(x, p)
                    let r := calldataload(add(q, shl(5, add(i, 1))))
                    if or(iszero(g), iszero(eq(mulmod(r, r, p), sub(p, g)))) {
                        q_ := 0
                        leave
                    }
                    switch i
                    case 0 { x := sub(p, addmod(x, 1, p)) }
                    default {
                        let s := mulmod(a0, a0, p)
                        x := addmod(mulmod(mulmod(mulmod(s, s, p), a2, p), a2, p), 1, p)
                    }
                }
                // 1 / t = a2 sqrt(-3) a0
                y := mulmod(mulmod(z, z, p), mulmod(mulmod(a2, FT_Z0, p), a0, p), p)
                if iszero(eq(mulmod(y, y, p), rhs(x, p))) { q_ := 0 }
            }
            // the modulus once on the stack: as a constant (runs 200) each use would copy it out of
            // the code. shr(255, gas()) is 0, but not to the optimizer, which would fold it back.
            let p := add(P, shr(255, gas()))
            let d0 := mulmod(mulmod(u0, FT_Z0, p), addmod(mulmod(u0, u0, p), 4, p), p)
            let d1 := mulmod(mulmod(u1, FT_Z0, p), addmod(mulmod(u1, u1, p), 4, p), p)
            let inv := calldataload(add(w.offset, o))
            let end := add(w.offset, w.length)
            if eq(mulmod(inv, mulmod(d0, d1, p), p), 1) {
                let x0, y0, q := map(u0, mulmod(d1, inv, p), add(add(w.offset, o), 0x20), end, p)
                if q {
                    let x1, y1, q1 := map(u1, mulmod(d0, inv, p), q, end, p)
                    if q1 {
                        let m := mload(0x40)
                        mstore(m, x0)
                        mstore(add(m, 0x20), y0)
                        mstore(add(m, 0x40), x1)
                        mstore(add(m, 0x60), y1)
                        if iszero(staticcall(gas(), 0x06, m, 0x80, point, 0x40)) { revert(0, 0) }
                        ok := 1
                        next := sub(q1, w.offset)
                    }
                }
            }
        }
    }

    /// hashToPoint over abi.encode(hash), the form every task, vote and registration message takes.
    function hashToPoint32(bytes32 domain, bytes32 hash) internal view returns (uint256[2] memory) {
        return hashToPoint(domain, abi.encode(hash));
    }

    /// Whether (x, y) is a G1 point with reduced coordinates (infinity (0, 0) included).
    function isValidG1(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        if (x == 0 && y == 0) return true;
        return mulmod(y, y, P) == _curveRhs(x);
    }

    /// e(a, -g2) * e(b, k) [* e(c, l) when `three`] == 1, for G1 points a, b, c and G2 points
    /// k, l in key layout. Invalid points (off the curve, outside the subgroup) make the
    /// precompile fail, which is a failed check here, never a revert.
    function pairing(
        uint256[2] memory a,
        uint256[2] memory b,
        uint256[4] memory k,
        uint256[2] memory c,
        uint256[4] memory l,
        bool three
    ) internal view returns (bool ok) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, mload(a))
            mstore(add(m, 0x20), mload(add(a, 0x20)))
            mstore(add(m, 0x40), NEG_G2_X_IM)
            mstore(add(m, 0x60), NEG_G2_X_RE)
            mstore(add(m, 0x80), NEG_G2_Y_IM)
            mstore(add(m, 0xa0), NEG_G2_Y_RE)
            mstore(add(m, 0xc0), mload(b))
            mstore(add(m, 0xe0), mload(add(b, 0x20)))
            mstore(add(m, 0x100), mload(add(k, 0x20)))
            mstore(add(m, 0x120), mload(k))
            mstore(add(m, 0x140), mload(add(k, 0x60)))
            mstore(add(m, 0x160), mload(add(k, 0x40)))
            let size := 0x180
            if three {
                mstore(add(m, 0x180), mload(c))
                mstore(add(m, 0x1a0), mload(add(c, 0x20)))
                mstore(add(m, 0x1c0), mload(add(l, 0x20)))
                mstore(add(m, 0x1e0), mload(l))
                mstore(add(m, 0x200), mload(add(l, 0x60)))
                mstore(add(m, 0x220), mload(add(l, 0x40)))
                size := 0x240
            }
            let success := staticcall(gas(), 0x08, m, size, 0x00, 0x20)
            ok := and(success, eq(mload(0x00), 1))
        }
    }

    /// e(signature, -g2) * e(message, publicKey) == 1, i.e. the signature is publicKey's over
    /// message. An invalid signature point is a failed check, never a precompile fault.
    function verify(uint256[2] memory signature, uint256[2] memory message, uint256[4] memory publicKey)
        internal
        view
        returns (bool ok)
    {
        if (!isValidG1(signature[0], signature[1])) return false;
        // two pairs: the third pair's points are not read
        return pairing(signature, message, publicKey, signature, publicKey, false);
    }
}
