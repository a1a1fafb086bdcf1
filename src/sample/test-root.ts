import { X509Certificate } from 'node:crypto';

/**
 * The sample builder's profile-signing root: a self-signed CA made for ascend's tests, demo and benchmarks.
 * It is NOT Apple's and NOT secret (it is published here on purpose, like the test keys of other projects),
 * so anyone can sign with it: ascend never trusts it unless asked, with ASCEND_EXTRA_TRUSTED_ROOTS set to
 * SAMPLE_ROOT_SHA256 (the CLI) or `extraTrustedRoots` (the library). It is fixed rather than made per
 * process so that sample IPAs cached on disk (benchmarks) stay verifiable across runs.
 */
export const SAMPLE_ROOT_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDZdO2Fw38WgghX
0hH5xCwWztGTF1lLkOQBYpUPmJGQ3UsdexmVV2+SsPh5ygHOneltvmiaEB4rQio1
u3dTdi0ee+KSiuo/q5Et7zJoraAz5fuGhMDhF7BSnb+1AxaeM+TklFIOAjKDg30L
Yct3QGg99gmN52MYQ5eeDx5mu0DZg/82WrODsh3lUGP4cJIaBdSzM0esRSwgQVar
l/3GiOmVtgruW7X/R2FiAPwfV+lDMhK8n7ZcBkuQibp8bLRTVMClUJ99NfQMz4/o
OJdkNfZFdvcv2Lav5EB3+7/HXApmrD3EkVJcgo3XWsj/CoN9XX4hy2QzEJR2Jhua
8QXbd8+HAgMBAAECggEANInVoU3cdLmx/lXY1fmZlWEerWUkw+cbz2HcFcqM0O1G
arcFNVnMsSpkvjgaO6tXbJZme2KNh3IS9Kx4ZgfVWtofobxCYGO5TdnO2g+o9yEH
pjaIy1mH1k4atUcrvclX8goL0SqivbeVDJzyJbu/88hwAoL3JDOgfCW2+KchQev6
QAb4NFmpLUQaq9JLBJv1c9BRPqDSLd7lbYWrsTwAC8QyK2rA0/ljfJNHUnOHOuAn
lj59+PcmTRQsLtVGyRHjHDKtIBSSyJk51Amh0SC0BujRjYXypIdtqCA0jr2/kniB
vj5BUjozggIUJvTCpcNsUpZGecBYHrbibgBZbmrN0QKBgQDxrvzOP/YgZ2pyPL0/
LOP1aUbP4UDlQgm/g8e9AToZqjm3td3xCQgCf8oO+27i8Mq2e4sfvs648lupifeu
XQSwBT/Q70f8x1Pzn9z5vdLnWhqqT8OGUSUDmjHRN4lIH9QiZUYZTEpE2fjUtBx9
6kOtiAcgAGawYQtNHHrNK4MRCwKBgQDmVo2FoJJZiTHmvYcsJDdXjE/qLkDUAFBO
XJE2JmqRUnhhlXkkNeFZCBEo/2PGfDDuqa82jd82Mwt6qvjceFrtP7WZcoORddtI
xaJeQpdbwTa4D9mwYOmP2K6Y7BJLBRrYCaMeJwYrXfmzu/4AfU46sXV64HQeftua
xnXXs2mA9QKBgGhPvHFQjeyCdiEEMjIYL/N2EsgaUqYgkJCGUikzZF47aFnwNvCX
k0tw2EcLIlr0zqlgPTXgZtzQTduo3qv1HdbTDS4ieJGTfpqB/yATW/nam/OyJZPN
Zgpd/O5t5+SnSCnoSA8XLF73LTyw2DNIbxlwwpJ/WdL6r6QCjMYM567tAoGBAJIa
YJZcLbiBX5e+rFkBd+EebSpbwF84+7dY2/r/DyWyrA0p5LdlPdVdWpUoub8S027v
TuZJw0X7xtI+VLBz3ykR+jyk+HNx0HAufDlR//QBcJX759cLAdtuVAFH7KqNSGO0
aTUdB7rGVzb8jbb9xHtSSPRyHvWg/ecE74aslMVpAoGABUQBoEzFvf3sHqHovsBi
L47OHCEgg+00uL+PXV+ET/b6tPxxavGoBMLS7LTZKp5x6ZAhWdF0RjO4hyT+bf1X
sLaCDGsfbJSwPEMWPzvAMgjALeFf5dcUyIy2HS6M/1v1FAVFQ5cWT7LaLAlNrAGi
GrfPdZ25cZGLgBWXHT70mYg=
-----END PRIVATE KEY-----
`;

export const SAMPLE_ROOT_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIDbzCCAlegAwIBAgIEClw+DTANBgkqhkiG9w0BAQsFADBmMUwwSgYDVQQDE0Nh
c2NlbmQgc2FtcGxlIHByb2ZpbGUgc2lnbmluZyByb290IChOT1QgQXBwbGU7IHRl
c3RzIGFuZCBkZW1vIG9ubHkpMRYwFAYDVQQKEw1hc2NlbmQgc2FtcGxlMCAXDTIw
MDEwMTAwMDAwMFoYDzIwNTAwMTAxMDAwMDAwWjBmMUwwSgYDVQQDE0Nhc2NlbmQg
c2FtcGxlIHByb2ZpbGUgc2lnbmluZyByb290IChOT1QgQXBwbGU7IHRlc3RzIGFu
ZCBkZW1vIG9ubHkpMRYwFAYDVQQKEw1hc2NlbmQgc2FtcGxlMIIBIjANBgkqhkiG
9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2XTthcN/FoIIV9IR+cQsFs7RkxdZS5DkAWKV
D5iRkN1LHXsZlVdvkrD4ecoBzp3pbb5omhAeK0IqNbt3U3YtHnvikorqP6uRLe8y
aK2gM+X7hoTA4RewUp2/tQMWnjPk5JRSDgIyg4N9C2HLd0BoPfYJjedjGEOXng8e
ZrtA2YP/Nlqzg7Id5VBj+HCSGgXUszNHrEUsIEFWq5f9xojplbYK7lu1/0dhYgD8
H1fpQzISvJ+2XAZLkIm6fGy0U1TApVCffTX0DM+P6DiXZDX2RXb3L9i2r+RAd/u/
x1wKZqw9xJFSXIKN11rI/wqDfV1+IctkMxCUdiYbmvEF23fPhwIDAQABoyMwITAP
BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIChDANBgkqhkiG9w0BAQsFAAOC
AQEALVRyW0ERD1NPKb8iAWOJqMG9liW7r778Q7SjOTbu2ohlkS7t7L4QLwGIqToc
+M2ktwgQdnIygXlbL85MCFgCwxHe0mZZS5RV7FoFKq1gg//cYgOw3vYvJal6Xx/M
+CrHaZOUQReazGHx2DSTY5d+F3+XUzJcBfqGqKUVg73jSGfJKWcy4WaqCeKywcXq
uV8CWRwLxzHfxUUvxT79GUASP+sIlfhxkiGOdP+2IgO9Ckg/APh1VKgmq/RKPpYw
Zcyhto7sd4xGqzrRPVHbiVLQ8GHF2ewFnnh/92/9Mg7W+ig7LLBuAmQVpENyZPeq
B0bs/LnKIpZHqanO4ZCY8zn65A==
-----END CERTIFICATE-----
`;

/** SHA-256 of the root's DER, lower-case hex without separators: the form ASCEND_EXTRA_TRUSTED_ROOTS takes. */
export const SAMPLE_ROOT_SHA256 = new X509Certificate(SAMPLE_ROOT_CERT_PEM).fingerprint256
  .replaceAll(':', '')
  .toLowerCase();
