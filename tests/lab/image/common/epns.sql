-- The SPSE database as an LPSE would have it: role epns owning epns_prod
-- (and the training copy epns_lat), a few procurement tables with rows.
CREATE ROLE epns LOGIN PASSWORD 'changed-per-host';
CREATE DATABASE epns_prod OWNER epns;
CREATE DATABASE epns_lat OWNER epns;
\connect epns_prod
SET ROLE epns;
CREATE TABLE paket (
    pkt_id bigint PRIMARY KEY,
    pkt_nama text NOT NULL,
    pkt_hps numeric(18, 2) NOT NULL,
    pkt_status smallint NOT NULL DEFAULT 1,
    audittime timestamp NOT NULL DEFAULT now()
);
CREATE TABLE lelang (
    lls_id bigint PRIMARY KEY,
    pkt_id bigint NOT NULL REFERENCES paket,
    lls_status smallint NOT NULL,
    lls_dibuat_tanggal timestamp NOT NULL DEFAULT now()
);
CREATE TABLE peserta (
    psr_id bigint PRIMARY KEY,
    lls_id bigint NOT NULL REFERENCES lelang,
    rkn_nama text NOT NULL,
    psr_harga numeric(18, 2)
);
INSERT INTO paket (pkt_id, pkt_nama, pkt_hps)
    SELECT i, 'Pengadaan barang ' || i, 1000000 * i FROM generate_series(1, 120) AS i;
INSERT INTO lelang (lls_id, pkt_id, lls_status)
    SELECT i, i, CASE WHEN i % 3 = 0 THEN 2 ELSE 1 END FROM generate_series(1, 90) AS i;
INSERT INTO peserta (psr_id, lls_id, rkn_nama, psr_harga)
    SELECT i, 1 + i % 90, 'CV Rekanan ' || i, 950000 * (1 + i % 90) FROM generate_series(1, 300) AS i;
CREATE INDEX lelang_pkt_id ON lelang (pkt_id);
CREATE INDEX peserta_lls_id ON peserta (lls_id);
\connect epns_lat
SET ROLE epns;
CREATE TABLE paket (pkt_id bigint PRIMARY KEY, pkt_nama text NOT NULL);
