--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: agent_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_versions (
    kind text NOT NULL,
    version text NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    blob_key text NOT NULL,
    entry_count integer NOT NULL,
    uploaded_at bigint NOT NULL,
    uploaded_by text NOT NULL,
    withdrawn_at bigint
);


--
-- Name: agentpack_system_migration; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agentpack_system_migration (
    name character varying(255) NOT NULL,
    "timestamp" character varying(255) NOT NULL
);


--
-- Name: agentpack_system_migration_lock; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agentpack_system_migration_lock (
    id character varying(255) NOT NULL,
    is_locked integer DEFAULT 0 NOT NULL
);


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at bigint NOT NULL,
    org_id text,
    actor text NOT NULL,
    action text NOT NULL,
    key_id text,
    detail text
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;


--
-- Name: bundles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bundles (
    id text NOT NULL,
    org_id text NOT NULL,
    kind text NOT NULL,
    version text NOT NULL,
    base_sha256 text NOT NULL,
    key_versions text NOT NULL,
    settings_sealed text NOT NULL,
    settings_master_key_id text NOT NULL,
    sha256 text NOT NULL,
    size bigint NOT NULL,
    file_name text NOT NULL,
    statement text NOT NULL,
    signature text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: http_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.http_sessions (
    id_hash text NOT NULL,
    user_id text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: key_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.key_versions (
    key_id text NOT NULL,
    owner_id text NOT NULL,
    purpose text NOT NULL,
    version integer NOT NULL,
    digest text NOT NULL,
    master_key_id text NOT NULL,
    sealed text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint
);


--
-- Name: kysely_migration; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kysely_migration (
    name character varying(255) NOT NULL,
    "timestamp" character varying(255) NOT NULL
);


--
-- Name: kysely_migration_lock; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.kysely_migration_lock (
    id character varying(255) NOT NULL,
    is_locked integer DEFAULT 0 NOT NULL
);


--
-- Name: memberships; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.memberships (
    user_id text NOT NULL,
    org_id text NOT NULL,
    role text NOT NULL,
    created_at bigint NOT NULL,
    CONSTRAINT memberships_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'member'::text])))
);


--
-- Name: organizations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.organizations (
    id text NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    created_at bigint NOT NULL,
    revision integer DEFAULT 0 NOT NULL
);


--
-- Name: system_secrets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.system_secrets (
    name text NOT NULL,
    revision integer NOT NULL,
    master_key_id text NOT NULL,
    sealed text NOT NULL,
    updated_at bigint NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id text NOT NULL,
    email text NOT NULL,
    password_hash text,
    system_admin integer DEFAULT 0 NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: audit_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);


--
-- Data for Name: agent_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_versions VALUES ('java', '1.0.0', '2b00c800913f1ce1e71eaa6f79650fa27c66e3f64c366714c2f56994b7b6ff7e', 4867, 'bases/java/1.0.0/2b00c800913f1ce1e71eaa6f79650fa27c66e3f64c366714c2f56994b7b6ff7e', 7, 1900000000000, 'system:bootstrap', NULL);
INSERT INTO public.agent_versions VALUES ('node', '1.0.0', '1f1e768d56b0e3a4d10724b2d6b81628a3365e401ba349f62f5e503acbd0dc81', 3889, 'bases/node/1.0.0/1f1e768d56b0e3a4d10724b2d6b81628a3365e401ba349f62f5e503acbd0dc81', 7, 1900000000000, 'system:bootstrap', NULL);


--
-- Data for Name: agentpack_system_migration; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agentpack_system_migration VALUES ('system_0001_sessions_and_secrets', '2026-12-02T16:45:29.183Z');


--
-- Data for Name: agentpack_system_migration_lock; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agentpack_system_migration_lock VALUES ('migration_lock', 0);


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_log VALUES (1, 1900000000000, 'ce08d739-8b8d-4112-83a3-d3e8f0af15f4', 'system:bootstrap', 'org.created', NULL, '{"name":"Demo","slug":"demo","apiKey":"apo_BiwuOukWER9n","agentServiceKey":"aps_jS0XJ2gl77OP"}');
INSERT INTO public.audit_log VALUES (2, 1900000000000, 'ce08d739-8b8d-4112-83a3-d3e8f0af15f4', 'system:bootstrap', 'user.added', 'apu_QcqTLtb3dhr9', '{"userId":"dfea821f-10ed-470f-8809-474ced3ba019","email":"admin@agentpack.local","role":"admin","systemAdmin":true,"created":true}');
INSERT INTO public.audit_log VALUES (3, 1900000000000, 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'cli:legacy', 'org.created', NULL, '{"name":"Acme Corp","slug":"acme","apiKey":"apo_XMLx6uNISmYB","agentServiceKey":"aps_g3d1ppYUqzcv"}');
INSERT INTO public.audit_log VALUES (4, 1900000000000, 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'cli:legacy', 'key.rotated', 'apo_pHY3VlMrBfEV', '{"which":"api-key","version":2,"previousKeyId":"apo_XMLx6uNISmYB","previousVersion":1,"graceSeconds":3600,"previousExpiresAt":"2030-03-17T18:46:40.000Z","endedKeyIds":[]}');
INSERT INTO public.audit_log VALUES (5, 1900000000000, 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'cli:legacy', 'user.added', 'apu_PcnoQbYQtUF1', '{"userId":"0d377ceb-0b37-4589-9ac8-6f70ecd569e3","email":"member@example.com","role":"member","systemAdmin":false,"created":true}');


--
-- Data for Name: bundles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.bundles VALUES ('71d0bc1ed0503f218a1108396086c064ccd0594a5a1cdaf5f2199ffc12110c0f', 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'java', '1.0.0', '2b00c800913f1ce1e71eaa6f79650fa27c66e3f64c366714c2f56994b7b6ff7e', '{"api-key":2,"agent-service-key":1}', 'MKkXhIqyXlLrp1oN9BblNBsbCiNxTJycsxYk4lZk', 'mk_0ed429bb7f9371aa', '63d60b74f975f78256e437342421fc9b6f25db87bc0988ea1f77ff07edc75a31', 5296, 'agentpack-java-1.0.0-acme.jar', '63d60b74f975f78256e437342421fc9b6f25db87bc0988ea1f77ff07edc75a31  agentpack-java-1.0.0-acme.jar
# agentpack-statement: v1
# org: f983263a-2fda-4095-b045-15f4a47d1dfd
# kind: java
# version: 1.0.0
# issued-at: 2030-03-17T17:46:40Z
# key-id: b632abefad3f72f7
', 'b7qS5hIOOrlxw9IPFMGkS4Em3hYPbdQSx6FzNPbsGRA1qbdB0cJUb7rYY70jeltN4gPoF8bfev4cK/uwaYB0DQ==', 1900000000000);


--
-- Data for Name: http_sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.http_sessions VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '0d377ceb-0b37-4589-9ac8-6f70ecd569e3', 1900000000000, 4000000000000);


--
-- Data for Name: key_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.key_versions VALUES ('apo_BiwuOukWER9n', 'ce08d739-8b8d-4112-83a3-d3e8f0af15f4', 'api-key', 1, 'YY7//+xvzW6cigVXm1TqlwrOwVrC1iNgOMHhuvTGugc=', 'mk_0ed429bb7f9371aa', 'gi+OuNycSVfpjo3+jXNhJnwFneYobKGHYKxS9oMCmxwJCo66L7VlmVDW+kIKPN7U3imLRKPvDbphesx6K15dt4669b35vB8DPZ9S', 1900000000000, NULL);
INSERT INTO public.key_versions VALUES ('aps_jS0XJ2gl77OP', 'ce08d739-8b8d-4112-83a3-d3e8f0af15f4', 'agent-service-key', 1, 'IePEw9YCts8NXlfKtf/2tJOsKMCR73aquj5maWHGb2Y=', 'mk_0ed429bb7f9371aa', 'X46/Kot0vE71LUakjtwR+mKZLaSnjRNR5FUp0CkigUhh6aN+cmIxRSli9SZu1PVt1fZOkiI7HpI5UsDNLQ5u2EH4HTRlmkTTxiaO', 1900000000000, NULL);
INSERT INTO public.key_versions VALUES ('apu_QcqTLtb3dhr9', 'dfea821f-10ed-470f-8809-474ced3ba019', 'personal-service-key', 1, '1zN0NHHc4w/XHD4Fegf2AyQkH3iS4hlNt/mO+dOhQoE=', 'mk_0ed429bb7f9371aa', '7dfZMEP9fLTivfZIpcuxAg4EKhGeRIi+sHHvs0117K++wY94RxBGT7ZTRYL6gdJnAQeBlNyflAXcsFB5JvmYLrqccMTiX9xR9ZPi', 1900000000000, NULL);
INSERT INTO public.key_versions VALUES ('aps_g3d1ppYUqzcv', 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'agent-service-key', 1, 'XG2zcRTmb6RiyMS3enl08xe4Wscu5Ya+Mk+RA+r3AwE=', 'mk_0ed429bb7f9371aa', 'A6ARDTcXFdv+yULo0tAZDDP+nbqZp/gs5UeUrWsnAzNZz8gFkCgTJMQlN1932fjIvbeGQqW7zoGGc5++O6EDYHCBBkgz81eFrldx', 1900000000000, NULL);
INSERT INTO public.key_versions VALUES ('apo_XMLx6uNISmYB', 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'api-key', 1, 'Epp4rp0lTZVia3yRWSX2SahZWDLWpKYqwm3AgSP6KN8=', 'mk_0ed429bb7f9371aa', 'XinYvM9dVqBLez4UeII6WCEmumK1c+ItGZMq8ksJ/3dsnorZr11NOWQRoWnMUguoT9tXeBW+fvO5mzF7p1vLwQpPDrj4VaRSlPNt', 1900000000000, 1900003600000);
INSERT INTO public.key_versions VALUES ('apo_pHY3VlMrBfEV', 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'api-key', 2, 'lE3E2A8LqpbJS+djYstvlF5vPXNhAMjIndjbQU3vKac=', 'mk_0ed429bb7f9371aa', 'q8aNREnjsuJXNf6s6AeRvT4RD1LVbUpefwt6nsQanpQit+NX522r2BHFpJSz7rRKHMkSrl5rHdMmudgBg9ftqHQgyO07IhUMmcRJ', 1900000000000, NULL);
INSERT INTO public.key_versions VALUES ('apu_PcnoQbYQtUF1', '0d377ceb-0b37-4589-9ac8-6f70ecd569e3', 'personal-service-key', 1, '7GzaHhOUoNXp41G1TIe2NlkVbLjhnNhIF5hmMxpZzV4=', 'mk_0ed429bb7f9371aa', 'Bx4mPMv6rLd1+EVFcE5lfTQsAPYGewf/KaAMhr/JpusX4eevGXgoGePNTZZxtnTt5MtznsNbOq8FKV5fWUaujwrHajARpPX6sgz5', 1900000000000, NULL);


--
-- Data for Name: kysely_migration; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.kysely_migration VALUES ('0001_initial', '2026-12-02T16:45:28.427Z');
INSERT INTO public.kysely_migration VALUES ('0003_catalog', '2026-12-02T16:45:28.515Z');


--
-- Data for Name: kysely_migration_lock; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.kysely_migration_lock VALUES ('migration_lock', 0);


--
-- Data for Name: memberships; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.memberships VALUES ('dfea821f-10ed-470f-8809-474ced3ba019', 'ce08d739-8b8d-4112-83a3-d3e8f0af15f4', 'admin', 1900000000000);
INSERT INTO public.memberships VALUES ('0d377ceb-0b37-4589-9ac8-6f70ecd569e3', 'f983263a-2fda-4095-b045-15f4a47d1dfd', 'member', 1900000000000);


--
-- Data for Name: organizations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.organizations VALUES ('ce08d739-8b8d-4112-83a3-d3e8f0af15f4', 'Demo', 'demo', 1900000000000, 1);
INSERT INTO public.organizations VALUES ('f983263a-2fda-4095-b045-15f4a47d1dfd', 'Acme Corp', 'acme', 1900000000000, 2);


--
-- Data for Name: system_secrets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.system_secrets VALUES ('signing-keys.json', 1, 'mk_0ed429bb7f9371aa', 'LqQrHld6IqutZ0PcXFvjh8na/EglKguFSICnUz7gLCEmCSTDp0CIJzQSo0YAMkiglS6J9HI4btQ3BeGq/26X97Z9QtWqg5NrLUKy0Poq76/KvK4KJB93HxOjJQvtErtP6bqPdpCfRn/8h5l6KDDbLAjUd9xuq+up4pJDkyGRudicgRGsZ8h09wCumbUoswmkbXUfWMPYY19OG5MZLVmx0tE5bp/Ogg50VNG3gEMzhrGXFlwHhAzGlSuCQj3KP9Rz6gMYqEcayZoYQTxGU8nlEfFxEGCa1+Z2keHG0IOLi2PIaUL54gLW7+oeS+j8txqYq/rjZiiaI6dw1jTtZUjx6kuF+f2Ft1j0kKJAOUznKclzSFFred3iVGaiRNsZu+mWNRNowOXEs1Gm6Ok8na8j/tWvO5IjNCr36t0FOFIIjayseMQfwxRIWo8gWGgOKD23OmVarsvbCCldE+XP/ZXbgChzuG3yxlIpG0bAGhDgxv9yX4VwZGec0jQw20F+tyqFsUYZokmbLhjjlZUr93MsM8owfUsqtZRSuFKgW4iLgU+48t/EOyjroApwia7G4KINkkgQ/5yrsut64p/N9aJjyutGgnuQnkv9QR+g0K06yMbsaU4T1oxAHU9EHTadmApR3oWMJnH9', 1900000000000);
INSERT INTO public.system_secrets VALUES ('link.key', 1, 'mk_0ed429bb7f9371aa', '0pXbTTaAPxZ2gZyO6n4MoYgpo/3RpYAA8tm/T6yBSBLpp1uQFvprkCww3oTIyiFYU5/1GpMSbw677MpRHLKJQpmJzeMUzwZpKw==', 1900000000000);


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users VALUES ('dfea821f-10ed-470f-8809-474ced3ba019', 'admin@agentpack.local', 'scrypt$N=32768,r=8,p=1$xTLjERt+/MWicBqnnBqGZA==$bEZ3OPM0GaTqAVuU70X5kGbiqfEBlyOobMzuIPyxc4o=', 1, 1900000000000);
INSERT INTO public.users VALUES ('0d377ceb-0b37-4589-9ac8-6f70ecd569e3', 'member@example.com', 'scrypt$N=32768,r=8,p=1$FzC3SJ5bIKqp9P02x4wA+A==$PtJtgkfLcHot1tcFewdw6cuXRCkanRWQTRHhsWL2wCU=', 0, 1900000000000);


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 5, true);


--
-- Name: agent_versions agent_versions_pk; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_versions
    ADD CONSTRAINT agent_versions_pk PRIMARY KEY (kind, version);


--
-- Name: agentpack_system_migration_lock agentpack_system_migration_lock_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agentpack_system_migration_lock
    ADD CONSTRAINT agentpack_system_migration_lock_pkey PRIMARY KEY (id);


--
-- Name: agentpack_system_migration agentpack_system_migration_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agentpack_system_migration
    ADD CONSTRAINT agentpack_system_migration_pkey PRIMARY KEY (name);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: bundles bundles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bundles
    ADD CONSTRAINT bundles_pkey PRIMARY KEY (id);


--
-- Name: http_sessions http_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.http_sessions
    ADD CONSTRAINT http_sessions_pkey PRIMARY KEY (id_hash);


--
-- Name: key_versions key_versions_owner_purpose_version; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.key_versions
    ADD CONSTRAINT key_versions_owner_purpose_version UNIQUE (owner_id, purpose, version);


--
-- Name: key_versions key_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.key_versions
    ADD CONSTRAINT key_versions_pkey PRIMARY KEY (key_id);


--
-- Name: kysely_migration_lock kysely_migration_lock_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kysely_migration_lock
    ADD CONSTRAINT kysely_migration_lock_pkey PRIMARY KEY (id);


--
-- Name: kysely_migration kysely_migration_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.kysely_migration
    ADD CONSTRAINT kysely_migration_pkey PRIMARY KEY (name);


--
-- Name: memberships memberships_pk; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_pk PRIMARY KEY (user_id, org_id);


--
-- Name: organizations organizations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);


--
-- Name: organizations organizations_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organizations
    ADD CONSTRAINT organizations_slug_key UNIQUE (slug);


--
-- Name: system_secrets system_secrets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.system_secrets
    ADD CONSTRAINT system_secrets_pkey PRIMARY KEY (name);


--
-- Name: users users_email_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_key UNIQUE (email);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: audit_log_org_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_org_id ON public.audit_log USING btree (org_id, id);


--
-- Name: bundles_org; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX bundles_org ON public.bundles USING btree (org_id, kind, version);


--
-- Name: http_sessions_expires_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX http_sessions_expires_at ON public.http_sessions USING btree (expires_at);


--
-- Name: memberships_org; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_org ON public.memberships USING btree (org_id);


--
-- Name: memberships memberships_org_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.organizations(id) ON DELETE CASCADE;


--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


