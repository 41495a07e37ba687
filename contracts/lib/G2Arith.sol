// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BN254} from "./BN254.sol";

/// @title Point addition on the BN254 G2 twist, over Fp2 = Fp[i]/(i^2 + 1)
/// @notice There is no G2 addition precompile, so aggregate public keys are summed here.
/// Points are accumulated in Jacobian coordinates ([X.c0, X.c1, Y.c0, Y.c1, Z.c0, Z.c1] in
/// memory, x = X/Z^2, y = Y/Z^3) so that each addition is a few dozen mulmods and only the
/// final conversion to affine pays for an inversion (one modexp). Affine points use the key
/// layout [x.c0, x.c1, y.c0, y.c1]; all zeros is the point at infinity.
library G2Arith {
    uint256 private constant P = BN254.P;

    function _dbl(uint256 a0, uint256 a1) private pure returns (uint256, uint256) {
        return (addmod(a0, a0, P), addmod(a1, a1, P));
    }

    function _sub(uint256 a0, uint256 a1, uint256 b0, uint256 b1) private pure returns (uint256, uint256) {
        return (addmod(a0, P - b0, P), addmod(a1, P - b1, P));
    }

    function _mul(uint256 a0, uint256 a1, uint256 b0, uint256 b1) private pure returns (uint256, uint256) {
        return (
            addmod(mulmod(a0, b0, P), P - mulmod(a1, b1, P), P), addmod(mulmod(a0, b1, P), mulmod(a1, b0, P), P)
        );
    }

    function _sqr(uint256 a0, uint256 a1) private pure returns (uint256, uint256) {
        // (a0 + a1 i)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 i; a0 < p < 2^254, so a0 + a0 cannot overflow
        return (mulmod(addmod(a0, a1, P), addmod(a0, P - a1, P), P), mulmod(a0 + a0, a1, P));
    }

    /// The Jacobian form of an affine point (all zeros stays the point at infinity, Z = 0).
    function fromAffine(uint256[4] memory a) internal pure returns (uint256[6] memory j) {
        if ((a[0] | a[1] | a[2] | a[3]) == 0) return j;
        j[0] = a[0];
        j[1] = a[1];
        j[2] = a[2];
        j[3] = a[3];
        j[4] = 1;
    }

    /// The negation of affine y (p - y per component, keeping 0 as 0).
    function negY(uint256 y) internal pure returns (uint256) {
        return y == 0 ? 0 : P - y;
    }

    /// j += (x, y), an affine point that is not infinity (mixed addition, madd-2007-bl).
    function addAffine(uint256[6] memory j, uint256 x0, uint256 x1, uint256 y0, uint256 y1) internal pure {
        if (j[4] == 0 && j[5] == 0) {
            (j[0], j[1], j[2], j[3], j[4], j[5]) = (x0, x1, y0, y1, 1, 0);
            return;
        }
        uint256 h0;
        uint256 h1;
        uint256 r0;
        uint256 r1;
        {
            (uint256 zz0, uint256 zz1) = _sqr(j[4], j[5]);
            (uint256 u0, uint256 u1) = _mul(x0, x1, zz0, zz1);
            (h0, h1) = _sub(u0, u1, j[0], j[1]); // H = U2 - X1
            (uint256 s0, uint256 s1) = _mul(j[4], j[5], zz0, zz1);
            (s0, s1) = _mul(y0, y1, s0, s1);
            (r0, r1) = _sub(s0, s1, j[2], j[3]); // S2 - Y1
        }
        if (h0 == 0 && h1 == 0) {
            // same x: either the same point (double it) or its negation (the sum is infinity)
            if (r0 == 0 && r1 == 0) {
                double(j);
            } else {
                (j[0], j[1], j[2], j[3], j[4], j[5]) = (0, 0, 0, 0, 0, 0);
            }
            return;
        }
        (r0, r1) = _dbl(r0, r1); // r = 2 (S2 - Y1)
        {
            (uint256 z0, uint256 z1) = _mul(j[4], j[5], h0, h1);
            (j[4], j[5]) = _dbl(z0, z1); // Z3 = 2 Z1 H
        }
        (uint256 i0, uint256 i1) = _sqr(h0, h1);
        (i0, i1) = _dbl(i0, i1);
        (i0, i1) = _dbl(i0, i1); // I = 4 H^2
        (uint256 jj0, uint256 jj1) = _mul(h0, h1, i0, i1); // J = H I
        (uint256 v0, uint256 v1) = _mul(j[0], j[1], i0, i1); // V = X1 I
        {
            (uint256 x30, uint256 x31) = _sqr(r0, r1);
            (x30, x31) = _sub(x30, x31, jj0, jj1);
            (uint256 vv0, uint256 vv1) = _dbl(v0, v1);
            (j[0], j[1]) = _sub(x30, x31, vv0, vv1); // X3 = r^2 - J - 2V
        }
        (uint256 w0, uint256 w1) = _mul(j[2], j[3], jj0, jj1);
        (w0, w1) = _dbl(w0, w1); // 2 Y1 J
        (v0, v1) = _sub(v0, v1, j[0], j[1]);
        (v0, v1) = _mul(r0, r1, v0, v1);
        (j[2], j[3]) = _sub(v0, v1, w0, w1); // Y3 = r (V - X3) - 2 Y1 J
    }

    /// j = 2 j (dbl-2009-l for a = 0).
    function double(uint256[6] memory j) internal pure {
        (uint256 a0, uint256 a1) = _sqr(j[0], j[1]); // A = X^2
        (uint256 b0, uint256 b1) = _sqr(j[2], j[3]); // B = Y^2
        {
            (uint256 z0, uint256 z1) = _mul(j[2], j[3], j[4], j[5]);
            (j[4], j[5]) = _dbl(z0, z1); // Z3 = 2 Y Z
        }
        (uint256 c0, uint256 c1) = _sqr(b0, b1); // C = B^2
        (uint256 d0, uint256 d1) = _sqr(addmod(j[0], b0, P), addmod(j[1], b1, P));
        (d0, d1) = _sub(d0, d1, a0, a1);
        (d0, d1) = _sub(d0, d1, c0, c1);
        (d0, d1) = _dbl(d0, d1); // D = 2 ((X + B)^2 - A - C)
        (uint256 e0, uint256 e1) = (addmod(a0 + a0, a0, P), addmod(a1 + a1, a1, P)); // E = 3 A
        {
            (uint256 f0, uint256 f1) = _sqr(e0, e1);
            (uint256 dd0, uint256 dd1) = _dbl(d0, d1);
            (j[0], j[1]) = _sub(f0, f1, dd0, dd1); // X3 = E^2 - 2 D
        }
        (d0, d1) = _sub(d0, d1, j[0], j[1]);
        (d0, d1) = _mul(e0, e1, d0, d1);
        (c0, c1) = _dbl(c0, c1);
        (c0, c1) = _dbl(c0, c1);
        (c0, c1) = _dbl(c0, c1); // 8 C
        (j[2], j[3]) = _sub(d0, d1, c0, c1); // Y3 = E (D - X3) - 8 C
    }

    /// Whether j is the affine point a (reduced coordinates only), without an inversion:
    /// x = X / Z^2 and y = Y / Z^3 checked as X == x Z^2 and Y == y Z^3.
    function equalsAffine(uint256[6] memory j, uint256[4] memory a) internal pure returns (bool) {
        if (a[0] >= P || a[1] >= P || a[2] >= P || a[3] >= P) return false;
        bool infinity = (a[0] | a[1] | a[2] | a[3]) == 0;
        if (j[4] == 0 && j[5] == 0) return infinity;
        if (infinity) return false;
        (uint256 zz0, uint256 zz1) = _sqr(j[4], j[5]);
        (uint256 x0, uint256 x1) = _mul(a[0], a[1], zz0, zz1);
        if (x0 != j[0] || x1 != j[1]) return false;
        (zz0, zz1) = _mul(zz0, zz1, j[4], j[5]);
        (x0, x1) = _mul(a[2], a[3], zz0, zz1);
        return x0 == j[2] && x1 == j[3];
    }

    /// The affine form of j (all zeros for infinity); one Fp inversion unless Z is already 1.
    function toAffine(uint256[6] memory j) internal view returns (uint256[4] memory a) {
        uint256 z0 = j[4];
        uint256 z1 = j[5];
        if (z0 == 0 && z1 == 0) return a;
        if (z0 == 1 && z1 == 0) return [j[0], j[1], j[2], j[3]];
        // 1 / (z0 + z1 i) = (z0 - z1 i) / (z0^2 + z1^2)
        uint256 n = BN254.inverse(addmod(mulmod(z0, z0, P), mulmod(z1, z1, P), P));
        (uint256 zi0, uint256 zi1) = (mulmod(z0, n, P), mulmod(P - z1, n, P));
        (uint256 zi20, uint256 zi21) = _sqr(zi0, zi1);
        (a[0], a[1]) = _mul(j[0], j[1], zi20, zi21);
        (zi0, zi1) = _mul(zi20, zi21, zi0, zi1);
        (a[2], a[3]) = _mul(j[2], j[3], zi0, zi1);
    }
}
