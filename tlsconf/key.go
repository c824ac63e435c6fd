package tlsconf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
)

// ErrKeyPassword is returned (wrapped) when an encrypted key does not decrypt with the
// password given, or when an encrypted key has no password.
var ErrKeyPassword = errors.New("tlsconf: wrong or missing key file password")

// loadKeyPair reads the certificate chain and its key (from keyFile, or from certFile
// when keyFile is empty), decrypting the key with password when it is encrypted.
func loadKeyPair(certFile, keyFile, password string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: certificate file: %w", err)
	}
	keyPEM, keyName := certPEM, certFile
	if keyFile != "" {
		keyName = keyFile
		if keyPEM, err = os.ReadFile(keyFile); err != nil {
			return nil, fmt.Errorf("tlsconf: key file: %w", err)
		}
	}
	plainKey, err := decryptKeyPEM(keyPEM, password)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, keyName)
	}
	cert, err := tls.X509KeyPair(certPEM, plainKey)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: %s and %s: %w", certFile, keyName, err)
	}
	return &cert, nil
}

// decryptKeyPEM returns the first private key block of data as plain PEM, decrypting
// it with password if it is encrypted.
func decryptKeyPEM(data []byte, password string) ([]byte, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("tlsconf: no PEM private key found")
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" {
			der, err := decryptPKCS8(block.Bytes, password)
			if err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
		}
		//lint:ignore SA1019 legacy PEM encryption is insecure by design, but it is what `openssl rsa -aes256 -traditional` writes and the only way to read such keys
		if !x509.IsEncryptedPEMBlock(block) {
			return pem.EncodeToMemory(block), nil
		}
		if password == "" {
			return nil, fmt.Errorf("%w: the key is encrypted and no password was given", ErrKeyPassword)
		}
		//lint:ignore SA1019 see above
		der, err := x509.DecryptPEMBlock(block, []byte(password))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKeyPassword, err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
	}
}

// PKCS#5 v2 (RFC 8018) object identifiers.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                 `asn1:"optional"`
	PRF        algorithmIdentifier `asn1:"optional"`
}

// maxPBKDF2Iterations bounds the key derivation a key file can ask for (OpenSSL writes
// 2048; a corrupt file must not hang the start).
const maxPBKDF2Iterations = 10_000_000

// convertHint ends the error of an encrypted PKCS#8 key this package cannot decrypt.
const convertHint = "convert it with `openssl pkcs8 -topk8 -v2 aes256 -in key.pem -out new.pem` (PBES2, AES-256-CBC) or store it unencrypted"

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo (RFC 5958) encrypted with PBES2
// (PBKDF2 with HMAC-SHA1/224/256/384/512, AES-128/192/256-CBC or DES-EDE3-CBC) and
// returns the PKCS#8 DER. The standard library parses PKCS#8 but cannot decrypt it;
// these are the primitives it has.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	if password == "" {
		return nil, fmt.Errorf("%w: the key is encrypted (ENCRYPTED PRIVATE KEY) and no password was given", ErrKeyPassword)
	}
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("tlsconf: malformed encrypted PKCS#8 key")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("tlsconf: encrypted PKCS#8 key uses scheme %v, not PBES2; %s", info.Algorithm.Algorithm, convertHint)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, errors.New("tlsconf: malformed PBES2 parameters")
	}
	key, block, iv, err := pbes2Key(params, password)
	if err != nil {
		return nil, err
	}
	c, err := block(key)
	if err != nil {
		return nil, err
	}
	data := info.EncryptedData
	if len(iv) != c.BlockSize() || len(data) == 0 || len(data)%c.BlockSize() != 0 {
		return nil, errors.New("tlsconf: malformed encrypted PKCS#8 key data")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(plain, data)
	plain, ok := unpad(plain, c.BlockSize())
	if !ok {
		return nil, ErrKeyPassword
	}
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil {
		return nil, ErrKeyPassword // a wrong password that happened to leave valid padding
	}
	return plain, nil
}

// pbes2Key derives the content-encryption key of params from password and returns it
// with the block cipher constructor and the IV.
func pbes2Key(params pbes2Params, password string) ([]byte, func([]byte) (cipher.Block, error), []byte, error) {
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, nil, fmt.Errorf("tlsconf: encrypted PKCS#8 key derives its key with %v, not PBKDF2 (scrypt?); %s", params.KeyDerivationFunc.Algorithm, convertHint)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, nil, nil, errors.New("tlsconf: malformed PBKDF2 parameters")
	}
	if kdf.Iterations < 1 || kdf.Iterations > maxPBKDF2Iterations {
		return nil, nil, nil, fmt.Errorf("tlsconf: PBKDF2 iteration count %d out of range", kdf.Iterations)
	}
	prf, err := prfHash(kdf.PRF.Algorithm)
	if err != nil {
		return nil, nil, nil, err
	}
	var keyLen int
	var block func([]byte) (cipher.Block, error)
	switch alg := params.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen, block = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		keyLen, block = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		keyLen, block = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		keyLen, block = 24, des.NewTripleDESCipher
	default:
		return nil, nil, nil, fmt.Errorf("tlsconf: encrypted PKCS#8 key uses cipher %v; %s", alg, convertHint)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, nil, nil, errors.New("tlsconf: malformed cipher parameters (IV)")
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconf: PBKDF2: %w", err)
	}
	return key, block, iv, nil
}

func prfHash(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case len(oid) == 0 || oid.Equal(oidHMACSHA1): // the DEFAULT
		return sha1.New, nil
	case oid.Equal(oidHMACSHA224):
		return sha256.New224, nil
	case oid.Equal(oidHMACSHA256):
		return sha256.New, nil
	case oid.Equal(oidHMACSHA384):
		return sha512.New384, nil
	case oid.Equal(oidHMACSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("tlsconf: encrypted PKCS#8 key uses PRF %v; %s", oid, convertHint)
}

// unpad removes PKCS#7 padding; ok is false when it is malformed (a wrong password).
func unpad(b []byte, blockSize int) ([]byte, bool) {
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, false
	}
	if !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, false
	}
	return b[:len(b)-n], true
}
