// Relationships through the UNMODIFIED aws-amplify JS client against `ampbase serve
// tests/interop/relations/resource.py`: lazy loaders (hasMany with paging, hasOne, belongsTo) and
// custom selectionSet eager loading (three levels deep, many-to-many through the join model).
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node [--experimental-websocket] relations.mjs <scenario> --outputs <amplify_outputs.json>
//
// Output: one JSON line, {"ok": true, "result": ...} or {"ok": false, "error": ...}.
import fs from 'node:fs';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/data';
import { plain } from './support.mjs';

function argv(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const scenario = process.argv[2];
Amplify.configure(JSON.parse(fs.readFileSync(argv('outputs', 'amplify_outputs.json'), 'utf8')));
const client = generateClient();
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const errorsOf = (...results) =>
  results.flatMap((r) => (r.errors ?? []).map((e) => ({ errorType: e.errorType ?? null, message: e.message })));

function must(result) {
  if (result.errors?.length) throw new Error(`request failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

const scenarios = {
  async lazy() {
    const { Team, Member, Customer, Cart, Post, Person } = client.models;
    const team = must(await Team.create({ mantra: `Go Frontend ${run}` }));
    const names = ['ann', 'ben', 'cat', 'dan', 'eve'];
    for (const name of names) must(await Member.create({ name, teamId: team.id }));
    must(await Member.create({ name: 'loner' }));

    // hasMany: the loader lists Member with filter {and: [{teamId: {eq}}]}; page through it
    const pages = [];
    let nextToken = null;
    do {
      const page = await team.members({ limit: 2, nextToken });
      pages.push(must(page).map((m) => m.name));
      nextToken = page.nextToken ?? null;
    } while (nextToken);
    const all = await team.members();

    // belongsTo
    const ann = must(all).find((m) => m.name === 'ann');
    const annTeam = await ann.team();
    const loner = must(await Member.list({ filter: { name: { eq: 'loner' } } }))[0];
    const lonerTeam = await loner.team();

    // hasOne both ways
    const rene = must(await Customer.create({ name: `Rene ${run}` }));
    const ian = must(await Customer.create({ name: `Ian ${run}` }));
    const cart = must(await Cart.create({ items: ['Tomato', 'Ice', 'Mint'], customerId: rene.id }));
    const reneCart = await rene.activeCart();
    const cartCustomer = await cart.customer();
    const ianCartBefore = await ian.activeCart();
    must(await Cart.update({ id: cart.id, customerId: ian.id }));
    const ianCartAfter = await ian.activeCart();
    const reneCartAfter = await rene.activeCart();
    const cleared = must(await Cart.update({ id: cart.id, customerId: null }));
    const ianCartCleared = await ian.activeCart();

    // author and editor
    const ada = must(await Person.create({ name: 'Ada', email: 'ada@example.com' }));
    const bob = must(await Person.create({ name: 'Bob' }));
    const post = must(await Post.create({ title: `p ${run}`, authorId: ada.id, editorId: bob.id }));
    const author = await post.author();
    const editor = await post.editor();
    const authored = await ada.authoredPosts();
    const edited = await ada.editedPosts();

    return {
      pages,
      all: must(all).map((m) => m.name).sort(),
      annTeam: plain(annTeam.data)?.mantra ?? null,
      lonerTeam: plain(lonerTeam.data),
      reneCart: plain(reneCart.data)?.items ?? null,
      cartCustomer: plain(cartCustomer.data)?.name ?? null,
      ianCartBefore: plain(ianCartBefore.data),
      ianCartAfter: plain(ianCartAfter.data)?.id ?? null,
      reneCartAfter: plain(reneCartAfter.data),
      clearedCustomerId: cleared.customerId ?? null,
      ianCartCleared: plain(ianCartCleared.data),
      cartId: cart.id,
      author: plain(author.data)?.name ?? null,
      editor: plain(editor.data)?.name ?? null,
      authored: must(authored).map((p) => p.title),
      edited: must(edited).map((p) => p.title),
      run,
      errors: errorsOf(annTeam, lonerTeam, reneCart, cartCustomer, ianCartAfter, author, editor, edited),
    };
  },

  async eager() {
    const { Team, Member, Post, Tag, PostTag, Person } = client.models;
    const team = must(await Team.create({ mantra: `m ${run}` }));
    for (const name of ['ann', 'ben']) must(await Member.create({ name, teamId: team.id }));
    const teamWithMembers = await Team.get({ id: team.id }, { selectionSet: ['id', 'members.*'] });

    const ada = must(await Person.create({ name: 'Ada', email: 'ada@example.com' }));
    const tags = [];
    for (const name of ['red', 'blue']) tags.push(must(await Tag.create({ name })));
    const posts = [];
    for (const title of ['one', 'two']) {
      const post = must(await Post.create({ title: `${title} ${run}`, authorId: ada.id }));
      posts.push(post);
      for (const tag of tags) must(await PostTag.create({ postId: post.id, tagId: tag.id }));
    }
    // ["author.email", "posts.*"] style: a belongsTo field and a whole hasMany
    const withAuthor = await Post.get({ id: posts[0].id }, { selectionSet: ['title', 'author.email', 'tags.*'] });
    // many-to-many through the join model
    const postTags = await Post.get({ id: posts[0].id }, { selectionSet: ['title', 'tags.tag.name'] });
    // three levels: Person -> authoredPosts -> tags -> tag
    const threeLevels = await Person.get(
      { id: ada.id },
      { selectionSet: ['name', 'authoredPosts.title', 'authoredPosts.tags.tag.name'] },
    );
    // from the other side, back again: Tag -> posts -> post -> author
    const tagPosts = await Tag.list({
      filter: { id: { eq: tags[0].id } },
      selectionSet: ['name', 'posts.post.title', 'posts.post.author.name'],
    });
    return {
      teamWithMembers: {
        id: teamWithMembers.data?.id === team.id,
        members: (teamWithMembers.data?.members ?? []).map((m) => ({ name: m.name, teamId: m.teamId === team.id })),
        lazyLoaderFunctions: typeof teamWithMembers.data?.members === 'function',
      },
      withAuthor: {
        email: withAuthor.data?.author?.email ?? null,
        tagLinks: (withAuthor.data?.tags ?? []).length,
        tagKeys: Object.keys(withAuthor.data?.tags?.[0] ?? {}).sort(),
      },
      postTags: (postTags.data?.tags ?? []).map((t) => t.tag.name).sort(),
      threeLevels: {
        name: threeLevels.data?.name ?? null,
        posts: (threeLevels.data?.authoredPosts ?? [])
          .map((p) => ({ title: p.title.split(' ')[0], tags: p.tags.map((t) => t.tag.name).sort() }))
          .sort((x, y) => x.title.localeCompare(y.title)),
      },
      tagPosts: tagPosts.data.map((t) => ({
        name: t.name,
        posts: t.posts.map((l) => `${l.post.title.split(' ')[0]}@${l.post.author.name}`).sort(),
      })),
      errors: errorsOf(teamWithMembers, withAuthor, postTags, threeLevels, tagPosts),
    };
  },
};

const fn = scenarios[scenario];
if (!fn) {
  console.log(JSON.stringify({ ok: false, error: `unknown scenario ${scenario}; known: ${Object.keys(scenarios)}` }));
  process.exit(2);
}
try {
  const result = await fn();
  console.log(JSON.stringify({ ok: true, result }));
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e), stack: e?.stack ?? null, detail: plain(e) }));
  process.exit(1);
}
