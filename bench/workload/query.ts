/**
 * The deep query of issue 6: `users → reviews → product → reviews → author → reviews → product`
 * and `topProducts → reviews → author → reviews → product`, every scalar field of each type.
 */
export const deepQuery = /* GraphQL */ `
fragment User on User {
  id
  name
  username
  birthday
}
fragment Review on Review {
  id
  body
}
fragment Product on Product {
  upc
  name
  price
  weight
  inStock
  shippingEstimate
}
query DeepQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}
`;

/** The POST body every benchmark request sends. */
export const deepQueryBody = JSON.stringify({ query: deepQuery, operationName: 'DeepQuery' });
